#!/usr/bin/env python3
"""Lists the public API of a crate from rustdoc's JSON output, one item a line, sorted.

Usage: public-api.py path/to/crate.json > public-api.txt

The listing names every public module, type, field, variant, function, method,
constant and trait implementation written in the crate (auto traits and blanket
implementations are left out), with signatures, so that a change to the public
surface shows as a diff in review. See scripts/public-api.sh.
"""
import json
import sys


def main():
    doc = json.load(open(sys.argv[1]))
    index, paths = doc["index"], doc["paths"]
    lines = set()
    # Where each item is reachable publicly (filled by a first walk): a type
    # is named by its public path, not by the private module defining it.
    public = {}

    def full(id_, fallback):
        if id_ in public:
            return public[id_]
        p = paths.get(str(id_))
        if p and p.get("crate_id") == 0:
            return "::".join(p["path"])
        return fallback.replace("$crate::", "").split("::")[-1]

    def args(a):
        if not a:
            return ""
        if "angle_bracketed" in a:
            parts = []
            for x in a["angle_bracketed"]["args"]:
                if "type" in x:
                    parts.append(ty(x["type"]))
                elif "lifetime" in x:
                    parts.append(x["lifetime"])
                elif "const" in x:
                    parts.append(str(x["const"].get("expr", "_")))
            for c in a["angle_bracketed"].get("constraints", []):
                binding = c.get("binding", {})
                if "equality" in binding and "type" in binding["equality"]:
                    parts.append(f"{c['name']} = {ty(binding['equality']['type'])}")
            return "<" + ", ".join(parts) + ">" if parts else ""
        if "parenthesized" in a:
            p = a["parenthesized"]
            out = f"({', '.join(ty(t) for t in p['inputs'])})"
            return out + (f" -> {ty(p['output'])}" if p.get("output") else "")
        return ""

    def path(p):
        return full(p["id"], p["path"]) + args(p.get("args"))

    def bound(b):
        if "trait_bound" in b:
            maybe = "?" if b["trait_bound"].get("modifier") == "maybe" else ""
            return maybe + path(b["trait_bound"]["trait"])
        if "outlives" in b:
            return b["outlives"]
        return "?"

    def ty(t):
        if t is None:
            return "()"
        (kind, v), = t.items()
        if kind == "resolved_path":
            return path(v)
        if kind in ("generic", "primitive"):
            return v
        if kind == "borrowed_ref":
            lt = (v["lifetime"] + " ") if v.get("lifetime") else ""
            return f"&{lt}{'mut ' if v['is_mutable'] else ''}{ty(v['type'])}"
        if kind == "raw_pointer":
            return f"*{'mut' if v['is_mutable'] else 'const'} {ty(v['type'])}"
        if kind == "slice":
            return f"[{ty(v)}]"
        if kind == "array":
            return f"[{ty(v['type'])}; {v['len']}]"
        if kind == "tuple":
            return "(" + ", ".join(ty(x) for x in v) + ")"
        if kind == "impl_trait":
            return "impl " + " + ".join(bound(b) for b in v)
        if kind == "dyn_trait":
            return "dyn " + " + ".join(path(p["trait"]) for p in v["traits"])
        if kind == "qualified_path":
            trait = path(v["trait"]) if v.get("trait") else "?"
            return f"<{ty(v['self_type'])} as {trait}>::{v['name']}"
        return kind

    def generics(g):
        params = []
        for p in g["params"]:
            k = p["kind"]
            if "type" in k:
                if k["type"].get("is_synthetic"):
                    continue
                bs = k["type"]["bounds"]
                params.append(p["name"] + (": " + " + ".join(bound(b) for b in bs) if bs else ""))
            elif "lifetime" in k:
                params.append(p["name"])
            elif "const" in k:
                params.append(f"const {p['name']}: {ty(k['const']['type'])}")
        preds = []
        for w in g["where_predicates"]:
            if "bound_predicate" in w:
                b = w["bound_predicate"]
                preds.append(f"{ty(b['type'])}: " + " + ".join(bound(x) for x in b["bounds"]))
        out = "<" + ", ".join(params) + ">" if params else ""
        return out, (" where " + ", ".join(preds) if preds else "")

    def fn(name, f):
        gp, wh = generics(f["generics"])
        ins = []
        for n, t in f["sig"]["inputs"]:
            if n == "self":
                ins.append({"Self": "self", "&Self": "&self", "&mut Self": "&mut self"}.get(ty(t), f"self: {ty(t)}"))
            else:
                ins.append(f"{n}: {ty(t)}")
        out = f["sig"].get("output")
        head = "const fn" if f["header"].get("is_const") else "fn"
        return f"{head} {name}{gp}({', '.join(ins)})" + (f" -> {ty(out)}" if out else "") + wh

    def attrs(item):
        return "#[non_exhaustive] " if any("non_exhaustive" in json.dumps(a) for a in item["attrs"]) else ""

    def impl(item, owner):
        i = item["inner"]["impl"]
        if i["is_synthetic"] or i["blanket_impl"] is not None:
            return
        gp, wh = generics(i["generics"])
        if i["trait"]:
            if i["trait"]["path"].endswith("StructuralPartialEq"):
                return
            lines.add(f"impl{gp} {path(i['trait'])} for {ty(i['for'])}{wh}")
            return
        for mid in i["items"]:
            m = index[str(mid)]
            if m["visibility"] != "public":
                continue
            if "function" in m["inner"]:
                lines.add(f"pub {fn(owner + '::' + m['name'], m['inner']['function'])}")
            elif "assoc_const" in m["inner"]:
                lines.add(f"pub const {owner}::{m['name']}: {ty(m['inner']['assoc_const']['type'])}")

    def item(id_, prefix, seen):
        it = index.get(str(id_))
        if it is None or id_ in seen:
            return
        seen = seen | {id_}
        (kind, v), = it["inner"].items()
        if kind == "use":
            if v.get("id") is not None:
                target = index.get(str(v["id"]))
                if target and "module" in target["inner"] and v["is_glob"]:
                    for c in target["inner"]["module"]["items"]:
                        item(c, prefix, seen)
                elif target:
                    renamed = dict(target, name=v["name"])
                    index[f"use{id_}"] = renamed
                    item(f"use{id_}", prefix, seen)
            return
        if it["visibility"] != "public" and not str(id_).startswith("use"):
            return
        name = f"{prefix}::{it['name']}" if prefix else it["name"]
        real = it["id"]
        if real not in public or len(name) < len(public[real]):
            public[real] = name
        if kind == "module":
            lines.add(f"pub mod {name}")
            for c in v["items"]:
                item(c, name, seen)
        elif kind == "struct":
            gp, wh = generics(v["generics"])
            lines.add(f"{attrs(it)}pub struct {name}{gp}{wh}")
            sk = v["kind"]
            fields = sk.get("plain", {}).get("fields", []) if isinstance(sk, dict) else []
            if isinstance(sk, dict) and "tuple" in sk:
                fields = [f for f in sk["tuple"] if f is not None]
            for f in fields:
                fi = index[str(f)]
                if fi["visibility"] == "public":
                    lines.add(f"pub {name}::{fi['name']}: {ty(fi['inner']['struct_field'])}")
            for i in v["impls"]:
                impl(index[str(i)], name)
        elif kind == "enum":
            gp, wh = generics(v["generics"])
            lines.add(f"{attrs(it)}pub enum {name}{gp}{wh}")
            for var in v["variants"]:
                vi = index[str(var)]
                vk = vi["inner"]["variant"]["kind"]
                shape = ""
                if isinstance(vk, dict) and "tuple" in vk:
                    shape = "(" + ", ".join(ty(index[str(f)]["inner"]["struct_field"]) for f in vk["tuple"] if f is not None) + ")"
                elif isinstance(vk, dict) and "struct" in vk:
                    fs = [index[str(f)] for f in vk["struct"]["fields"]]
                    shape = " { " + ", ".join(f"{f['name']}: {ty(f['inner']['struct_field'])}" for f in fs) + " }"
                lines.add(f"{attrs(vi)}pub {name}::{vi['name']}{shape}")
            for i in v["impls"]:
                impl(index[str(i)], name)
        elif kind == "function":
            lines.add(f"pub {fn(name, v)}")
        elif kind == "constant":
            lines.add(f"pub const {name}: {ty(v['type'])}")
        elif kind == "static":
            lines.add(f"pub static {name}: {ty(v['type'])}")
        elif kind == "type_alias":
            lines.add(f"pub type {name} = {ty(v['type'])}")
        elif kind == "trait":
            lines.add(f"pub trait {name}")
            for m in v["items"]:
                mi = index[str(m)]
                if "function" in mi["inner"]:
                    lines.add(f"{fn(name + '::' + mi['name'], mi['inner']['function'])}")
        elif kind == "macro":
            lines.add(f"macro {name}")

    item(doc["root"], "", frozenset())
    lines.clear()
    item(doc["root"], "", frozenset())
    print("\n".join(sorted(lines)))


if __name__ == "__main__":
    main()
