//! The OpenAPI description of the API (`openapi.json`, written by hand),
//! served at `/v1/openapi.json`; a test holds it to every route the routers
//! declare.

/// The description, as served.
pub const TEXT: &str = include_str!("openapi.json");

#[cfg(test)]
mod tests {
    /// `(method, path)` of every `.route("PATH", get(…)/post(…))` in `source`.
    fn routes(source: &str) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for part in source.split(".route(\"").skip(1) {
            let Some((path, rest)) = part.split_once('"') else { continue };
            let rest = rest.trim_start_matches([',', ' ', '\n']);
            let method = rest.split('(').next().unwrap_or("").trim();
            out.push((method.to_string(), path.to_string()));
        }
        out
    }

    #[test]
    fn every_route_of_the_routers_is_described() {
        let doc: serde_json::Value = serde_json::from_str(super::TEXT).expect("openapi.json is JSON");
        assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")));
        let sources = [include_str!("server.rs"), include_str!("dashboard/mod.rs")];
        let found: Vec<_> = sources.iter().flat_map(|s| routes(s)).collect();
        assert!(found.len() >= 15, "{found:?}");
        for (method, path) in found {
            let op = &doc["paths"][&path][&method];
            assert!(op.is_object(), "openapi.json does not describe {method} {path}");
            assert!(op["responses"].is_object(), "{method} {path} has no responses");
        }
    }
}
