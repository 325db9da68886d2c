//! Tests of `${VAR}` interpolation, env files, command strings and
//! `depends_on` conditions, through the whole parser: values, exact error
//! texts, and that no message shows a variable's value.

use super as interpolate;
use crate::name::ServiceName;
use crate::spec::{Condition, Dependency, EnvFileText, SpecInputs, parse_with};
use std::collections::BTreeMap;

fn vars(list: &[(&str, &str)]) -> BTreeMap<String, String> {
    list.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn expand(text: &str, list: &[(&str, &str)]) -> Result<String, String> {
    let keep = |name: &str| interpolate::is_instance_variable(name, &["PORT".to_string()]);
    match interpolate::interpolate(text, &vars(list), &keep) {
        Ok(out) => Ok(out.unwrap_or_else(|| text.to_string())),
        Err(p) => Err(match p.help {
            Some(help) => format!("{}\n  help: {help}", p.message),
            None => p.message,
        }),
    }
}

fn inputs(env: &[(&str, &str)]) -> SpecInputs {
    SpecInputs { environment: vars(env), ..SpecInputs::default() }
}

fn file(name: &str, text: &str) -> EnvFileText {
    EnvFileText { name: name.into(), text: Ok(text.into()) }
}

fn err(source: &str, inputs: &SpecInputs) -> String {
    match parse_with(source, "ward.yaml", inputs) {
        Ok(spec) => panic!("expected an error, got {spec:?}"),
        Err(errors) => errors.to_string(),
    }
}

fn api(body: &str) -> String {
    format!("version: 1\nservices:\n  api:\n{body}")
}

#[test]
fn the_forms_of_a_variable() {
    let env = [("A", "1"), ("EMPTY", "")];
    assert_eq!(expand("x${A}y", &env).unwrap(), "x1y");
    assert_eq!(expand("${B:-dflt} ${EMPTY:-d2} ${EMPTY-d3}", &env).unwrap(), "dflt d2 ");
    assert_eq!(expand("${B:-${A}0}", &env).unwrap(), "10");
    assert_eq!(expand("$$A $${A} $A cost$", &env).unwrap(), "$A ${A} $A cost$");
    assert_eq!(expand("${PORT} ${WARD_REPLICA}", &env).unwrap(), "${PORT} ${WARD_REPLICA}");
}

#[test]
fn the_mistakes_of_a_variable() {
    assert_eq!(
        expand("${DB_URL:?set DB_URL}", &[]).unwrap_err(),
        "DB_URL is not set: set DB_URL\n  help: set DB_URL in ward's environment or in .env beside the spec"
    );
    assert_eq!(
        expand("${EMPTY:?}", &[("EMPTY", "")]).unwrap_err().lines().next(),
        Some("EMPTY is not set: it is required")
    );
    assert_eq!(expand("${EMPTY?}", &[("EMPTY", "")]).unwrap(), "");
    assert_eq!(
        expand("${NOPE}", &[]).unwrap_err(),
        "variable NOPE is not set\n  help: set NOPE in ward's environment or in .env beside the spec, give a default with ${NOPE:-default}, or write $${NOPE} for a literal ${NOPE}"
    );
    assert_eq!(
        expand("${A", &[]).unwrap_err(),
        "unclosed `${`, expected `}`\n  help: write $$ for a literal $"
    );
    assert_eq!(
        expand("${1A}", &[]).unwrap_err().lines().next(),
        Some(
            "invalid variable `${1A}`, expected a name of letters, digits and `_` that does not start with a digit"
        )
    );
    assert_eq!(
        expand("${A!x}", &[]).unwrap_err(),
        "invalid variable `${A!x}`, expected `${A}`, `${A:-default}` or `${A:?message}`"
    );
    assert_eq!(
        expand("${PORT:-80}", &[]).unwrap_err(),
        "`${PORT:-80}`: PORT is an instance variable, filled at launch, and takes no default or message\n  help: write ${PORT}"
    );
}

#[test]
fn values_come_from_the_environment_over_dotenv_and_are_typed_again() {
    let source = api(concat!(
        "    command: \"./api --db ${DB_URL} --port ${PORT} --quoted '${TAG:-a b}'\"\n",
        "    replicas: ${N}\n",
        "    env: { LEVEL: \"${LEVEL}\", COUNT: \"${N}\" }\n",
        "    ports: { PORT: 8080 }\n",
    ));
    let mut inputs = inputs(&[("DB_URL", "pg://u:secret@db/x"), ("LEVEL", "debug")]);
    inputs.dotenv = Some(file("/srv/.env", "N=2\nLEVEL=info\n"));
    let spec = parse_with(&source, "ward.yaml", &inputs).unwrap();
    let api = &spec.services[&ServiceName::new("api").unwrap()];
    assert_eq!(api.command, ["./api", "--db", "pg://u:secret@db/x", "--port", "${PORT}", "--quoted", "a b"]);
    assert_eq!(api.replicas, 2);
    assert_eq!(api.env["LEVEL"], "debug");
    assert_eq!(api.env["COUNT"], "2");
}

#[test]
fn an_unset_required_variable_is_a_positioned_error() {
    let source = api("    command: [\"./api\", \"${DB_URL:?set DB_URL}\"]\n");
    assert_eq!(
        err(&source, &SpecInputs::default()),
        "ward.yaml:4:24: services.api.command[1]: DB_URL is not set: set DB_URL\n  help: set DB_URL in ward's environment or in .env beside the spec"
    );
}

#[test]
fn messages_quote_the_spec_not_the_value() {
    let source = api(concat!(
        "    command: [x]\n    health: { http: \"${HEALTH}\" }\n    restart: ${POLICY}\n",
        "    backoff: { jitter: \"${J}\" }\n    resources: { memory: \"${M}\" }\n",
    ));
    let env = [("HEALTH", "ftp://hunter2@host"), ("POLICY", "sometimes-secret"), ("J", "1.5"), ("M", "0")];
    let got = err(&source, &inputs(&env));
    assert_eq!(
        got,
        concat!(
            "ward.yaml:5:21: services.api.health.http: invalid http url `${HEALTH}`, expected a url starting with http://\n",
            "ward.yaml:6:14: services.api.restart: unknown value `${POLICY}`, expected one of always, on-failure, never\n",
            "ward.yaml:7:24: services.api.backoff.jitter: jitter ${J} is out of range, expected at least 0 and less than 1\n",
            "ward.yaml:8:26: services.api.resources.memory: memory ${M} is out of range, expected more than 0 bytes",
        )
    );
    assert!(!got.contains("hunter2") && !got.contains("sometimes-secret"));
}

#[test]
fn env_files_merge_in_order_under_env() {
    let source =
        api("    command: [x]\n    env_file: [base.env, \"${STAGE}.env\"]\n    env: { B: from-spec }\n");
    let mut inputs = inputs(&[("STAGE", "prod")]);
    inputs.env_files.insert("base.env".into(), file("/s/base.env", "A=base\nB=base\nC=base\n"));
    inputs.env_files.insert("prod.env".into(), file("/s/prod.env", "C=prod\n"));
    assert_eq!(super::super::env_file_paths(&source, &inputs), ["base.env", "prod.env"]);
    let spec = parse_with(&source, "ward.yaml", &inputs).unwrap();
    let env = &spec.services[&ServiceName::new("api").unwrap()].env;
    assert_eq!(
        env,
        &vars(&[("A", "base"), ("B", "from-spec"), ("C", "prod"), ("STAGE", "")])
            .into_iter()
            .filter(|(k, _)| k != "STAGE")
            .collect::<BTreeMap<_, _>>()
    );
}

#[test]
fn env_file_mistakes_are_positioned() {
    let source = api("    command: [x]\n    env_file: [gone.env, bad.env]\n");
    let mut inputs = SpecInputs::default();
    let gone = EnvFileText {
        name: "/s/gone.env".into(),
        text: Err("No such file or directory (os error 2)".into()),
    };
    inputs.env_files.insert("gone.env".into(), gone);
    inputs.env_files.insert("bad.env".into(), file("/s/bad.env", "OK=1\nSECRET='open\n"));
    assert_eq!(
        err(&source, &inputs),
        concat!(
            "/s/bad.env:2:8: services.api.env_file[1]: unclosed ' quote, expected a closing '\n",
            "ward.yaml:5:16: services.api.env_file[0]: cannot read env file /s/gone.env: No such file or directory (os error 2)\n",
            "  help: create it, or remove it from env_file",
        )
    );
}

#[test]
fn a_dotenv_mistake_is_positioned_in_it() {
    let inputs = SpecInputs { dotenv: Some(file("/s/.env", "A=1\nB\n")), ..SpecInputs::default() };
    assert_eq!(err(&api("    command: [x]\n"), &inputs), "/s/.env:2:2: expected `=` after `B`, like B=value");
}

#[test]
fn depends_on_takes_a_condition_per_dependency() {
    let source = concat!(
        "version: 1\nservices:\n",
        "  api: { command: [a], depends_on: { db: ready, migrate: completed, cache: { condition: service_started } } }\n",
        "  db: { command: [d] }\n  cache: { command: [c] }\n",
        "  migrate: { command: [m], restart: never }\n",
    );
    let spec = parse_with(source, "ward.yaml", &SpecInputs::default()).unwrap();
    let name = |s: &str| ServiceName::new(s).unwrap();
    assert_eq!(
        spec.services[&name("api")].depends_on,
        [
            Dependency { service: name("db"), condition: Condition::Ready },
            Dependency { service: name("migrate"), condition: Condition::Completed },
            Dependency { service: name("cache"), condition: Condition::Started },
        ]
    );
}

#[test]
fn depends_on_conditions_are_checked() {
    let source = concat!(
        "version: 1\nservices:\n",
        "  api:\n    command: [a]\n    depends_on: { db: healthy, migrate: completed, nope: ready }\n",
        "  db: { command: [d] }\n",
        "  migrate: { command: [m], restart: always }\n",
    );
    assert_eq!(
        err(source, &SpecInputs::default()),
        concat!(
            "ward.yaml:5:23: services.api.depends_on.db: unknown value `healthy`, expected one of started, ready, completed, service_started, service_healthy, service_completed_successfully\n",
            "ward.yaml:5:41: services.api.depends_on.migrate: `migrate` has `restart: always`, so it never completes\n",
            "  help: give migrate `restart: never` (a one-shot), or wait for it to be `ready`\n",
            "ward.yaml:5:58: services.api.depends_on.nope: unknown service `nope`\n",
            "  help: known services: api, db, migrate",
        )
    );
}
