//! A database that goes away or locks up, including in the worst moment: after the provider
//! rotated the refresh token and before the broker stored the new one.
//!
//! Requests that need the database get `503 server_error` with `Retry-After` (a server fault
//! that passes, not a client mistake). A refreshed record the database refused is kept in
//! memory and written once it takes writes again, so the rotated refresh token is not lost,
//! and the provider is not asked again meanwhile.

use crate::support::{token_request, wait_until, Tally};
use oauth_e2e::fake::{Fault, Gate};
use oauth_e2e::{
    postgres_or_skip, postgres_server, BrokerBuilder, TcpProxy, TestBroker, TestDatabase,
};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions as _, Connection as _};
use std::net::SocketAddr;

#[tokio::test(flavor = "multi_thread")]
async fn rotated_refresh_token_survives_a_locked_sqlite_database() {
    let broker = BrokerBuilder::new().sqlite().start().await;
    let authid = broker.sign_in().await;
    let mut tally = Tally::new("sqlite_locked_during_rotation", &broker);
    let TestDatabase::Sqlite(path) = &broker.database else {
        unreachable!("the builder was asked for SQLite")
    };
    let mut locker = SqliteConnectOptions::new()
        .filename(path)
        .connect()
        .await
        .unwrap();
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut locker)
        .await
        .unwrap();
    tally.inject();

    // Reads go on while another connection holds the write lock.
    tally.ok(broker.token(&authid, None).await).await;
    // A refresh rotates the refresh token at the provider, then cannot store it (after the
    // broker's ten-second busy timeout).
    broker.expire_cached_tokens();
    let answer = broker.token(&authid, None).await;
    tally.fault(answer, 503, "server_error").await;
    assert_eq!(broker.fake().refresh_count(), 1);

    sqlx::query("ROLLBACK").execute(&mut locker).await.unwrap();
    locker.close().await.unwrap();
    tally.ok(broker.token(&authid, None).await).await;
    assert_eq!(
        broker.fake().refresh_count(),
        1,
        "the kept record is written and its token served, without a second refresh"
    );
    tally.grant_works(&broker, &authid).await;
    tally.report();
    broker.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn postgres_outage_gets_503_and_service_resumes_without_restart() {
    if !postgres_or_skip("faults::postgres_outage").await {
        return;
    }
    let proxy = TcpProxy::start(postgres_addr().await).await;
    let proxy_port = proxy.addr.port();
    let broker = BrokerBuilder::new()
        .postgres()
        .config(move |raw| {
            let url = raw.database_url.as_deref().unwrap();
            let mut url = url::Url::parse(url).unwrap();
            url.set_host(Some("127.0.0.1")).unwrap();
            url.set_port(Some(proxy_port)).unwrap();
            raw.database_url = Some(url.to_string());
        })
        .start()
        .await;
    let authid = broker.sign_in().await;
    let mut tally = Tally::new("postgres_outage", &broker);

    proxy.cut();
    tally.inject();
    requests_during_an_outage(&broker, &authid, &mut tally).await;
    proxy.restore();
    tally.ok(broker.token(&authid, None).await).await;

    outage_during_a_rotation(&broker, &proxy, &authid, &mut tally).await;
    let ready = broker.http.get(broker.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200);
    tally.grant_works(&broker, &authid).await;
    tally.report();
    broker.stop().await;
}

/// Tokens, sign-ins and readiness while the database is unreachable.
async fn requests_during_an_outage(broker: &TestBroker, authid: &str, tally: &mut Tally) {
    tally
        .fault(broker.token(authid, None).await, 503, "server_error")
        .await;
    let login = broker
        .http
        .post(broker.url("/v1/logins"))
        .json(&serde_json::json!({ "provider": "demo" }))
        .send()
        .await
        .unwrap();
    tally.fault(login, 503, "server_error").await;
    let ready = broker.http.get(broker.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 503);
}

/// The database goes away while the provider answers a refresh with a rotated refresh token.
async fn outage_during_a_rotation(
    broker: &TestBroker,
    proxy: &TcpProxy,
    authid: &str,
    tally: &mut Tally,
) {
    broker.expire_cached_tokens();
    let gate = Gate::new();
    broker.fake().inject(Fault::Hold(gate.clone()));
    let refreshes = broker.fake().refresh_count();
    let refresh = tokio::spawn(token_request(broker, &broker.url, authid));
    wait_until("the refresh reaches the provider", || {
        broker.fake().refresh_count() > refreshes
    })
    .await;
    proxy.cut();
    tally.inject();
    gate.open();
    tally
        .fault(refresh.await.unwrap(), 503, "server_error")
        .await;
    tally
        .fault(broker.token(authid, None).await, 503, "server_error")
        .await;

    proxy.restore();
    tally.ok(broker.token(authid, None).await).await;
    assert_eq!(
        broker.fake().refresh_count(),
        refreshes + 1,
        "the kept record is written and its token served, without a second refresh"
    );
}

/// The PostgreSQL server the tests use, as a socket address.
async fn postgres_addr() -> SocketAddr {
    let url = url::Url::parse(&postgres_server()).unwrap();
    let host = url.host_str().unwrap_or("127.0.0.1").to_owned();
    let port = url.port().unwrap_or(5432);
    tokio::net::lookup_host((host, port))
        .await
        .unwrap()
        .next()
        .unwrap()
}
