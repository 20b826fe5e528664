//! The OpenAPI document at `GET /v1/openapi.json` against the router: it parses as OpenAPI 3,
//! every operation it lists is served with that method, every other method on its paths is
//! refused with 405, and the router takes no `/v1` route from anywhere but the document's table.
#![allow(clippy::unwrap_used)] // test scaffolding: a panic is a failed test

use oauth_e2e::TestBroker;
use reqwest::Method;
use serde_json::Value;
use std::path::Path;

const METHODS: [Method; 5] = [
    Method::GET,
    Method::POST,
    Method::PUT,
    Method::DELETE,
    Method::PATCH,
];

async fn fetch_document(broker: &TestBroker) -> Value {
    let response = reqwest::get(broker.url("/v1/openapi.json")).await.unwrap();
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"].to_str().unwrap();
    assert_eq!(content_type, "application/json");
    response.json().await.unwrap()
}

/// `(path, documented methods)` for every path in the document.
fn operations(document: &Value) -> Vec<(String, Vec<Method>)> {
    let paths = document["paths"].as_object().unwrap();
    paths
        .iter()
        .map(|(path, item)| {
            let methods = METHODS
                .iter()
                .filter(|m| item.get(m.as_str().to_lowercase()).is_some())
                .cloned()
                .collect();
            (path.clone(), methods)
        })
        .collect()
}

#[tokio::test]
async fn the_served_document_is_openapi_3_and_is_the_one_in_the_code() {
    let broker = TestBroker::start().await;
    let served = fetch_document(&broker).await;
    assert!(
        served["openapi"].as_str().unwrap().starts_with("3."),
        "{served}"
    );

    let parsed: utoipa::openapi::OpenApi = serde_json::from_value(served.clone()).unwrap();
    assert_eq!(serde_json::to_value(&parsed).unwrap(), served, "round trip");
    let built = serde_json::to_value(oauth_broker::http::openapi::document()).unwrap();
    assert_eq!(built, served);

    let schemes = &served["components"]["securitySchemes"];
    for name in ["authid", "poll_secret"] {
        assert_eq!(schemes[name]["scheme"], "bearer", "{schemes}");
    }
    assert!(served["components"]["schemas"]["ErrorBody"].is_object());
    let token = &served["paths"]["/v1/token"]["post"];
    assert_eq!(token["security"][0]["authid"], serde_json::json!([]));
    for status in ["400", "401", "429", "503"] {
        let body = &token["responses"][status]["content"]["application/json"]["schema"];
        assert_eq!(body["$ref"], "#/components/schemas/ErrorBody", "{status}");
    }
}

#[tokio::test]
async fn every_documented_operation_is_routed_with_its_method_and_no_other() {
    let broker = TestBroker::start().await;
    let document = fetch_document(&broker).await;
    let operations = operations(&document);
    let paths: Vec<&str> = operations.iter().map(|(p, _)| p.as_str()).collect();
    for expected in [
        "/v1/logins",
        "/v1/logins/{login_id}/poll",
        "/v1/token",
        "/v1/revoke",
    ] {
        assert!(paths.contains(&expected), "{paths:?}");
    }

    let http = reqwest::Client::new();
    for (path, documented) in &operations {
        assert!(path.starts_with("/v1/") && !documented.is_empty(), "{path}");
        let url = broker.url(&path.replace("{login_id}", "no-such-login"));
        for method in METHODS {
            let response = http.request(method.clone(), &url).send().await.unwrap();
            let status = response.status().as_u16();
            let body = response.text().await.unwrap();
            if documented.contains(&method) {
                let unrouted = status == 405 || body.contains("no such endpoint");
                assert!(
                    !unrouted,
                    "{method} {path} is documented but not routed: {status}"
                );
            } else {
                assert_eq!(status, 405, "{method} {path} is routed but not documented");
            }
        }
    }
}

/// The router's `/v1` routes come only from `openapi::v1_routes()`, where each handler's
/// `#[utoipa::path]` registers route and document together; no `/v1` route is added by hand.
#[test]
fn no_v1_route_is_added_outside_the_documented_table() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../broker/src");
    let mut stack = vec![src];
    let mut checked = 0;
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                let compact: String = text.split_whitespace().collect();
                assert!(
                    !compact.contains(".route(\"/v1") && !compact.contains(".nest(\"/v1"),
                    "{} adds a /v1 route by hand; register it in http/openapi.rs",
                    path.display()
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 10, "read the broker's sources");
}
