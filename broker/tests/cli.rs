//! The `oauth-broker` binary itself: `dev` end to end, `gen-key`, `check-config`, `healthcheck`.
#![allow(clippy::unwrap_used)] // test scaffolding: a panic is a failed test

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_oauth-broker");

struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `oauth-broker dev` on a free port and returns it with its base URL.
fn start_dev(data_dir: &std::path::Path) -> (Running, String) {
    let mut child = Command::new(BIN)
        .args(["dev", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data_dir)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let running = Running(child);
    let mut lines = BufReader::new(stdout).lines();
    let url = lines
        .by_ref()
        .map_while(Result::ok)
        .find_map(|line| {
            let rest = line.split("open ").nth(1)?;
            Some(
                rest.split_whitespace()
                    .next()?
                    .trim_end_matches('/')
                    .to_owned(),
            )
        })
        .expect("oauth-broker dev prints the URL to open");
    // Keep draining standard output so the child never writes into a full or closed pipe.
    std::thread::spawn(move || lines.for_each(drop));
    (running, url)
}

#[tokio::test]
async fn dev_mode_signs_in_to_the_demo_provider_and_serves_a_token() {
    let dir = tempfile::tempdir().unwrap();
    let (_dev, url) = start_dev(dir.path());
    let browser = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();

    let index = browser
        .get(format!("{url}/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(index.contains("/login/demo"));
    let start = browser
        .get(format!("{url}/login/demo"))
        .send()
        .await
        .unwrap();
    let authorize = location(&start);
    assert!(authorize.starts_with(&format!("{url}/demo/authorize?")));

    let consent = browser.get(&authorize).send().await.unwrap();
    assert_eq!(consent.status(), 200);
    let mut form: Vec<(String, String)> = url::Url::parse(&authorize)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect();
    form.extend([
        ("user".into(), "demo-user".into()),
        ("decision".into(), "allow".into()),
    ]);
    let approved = browser.post(&authorize).form(&form).send().await.unwrap();
    let page = browser
        .get(location(&approved))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let authid = page
        .split("value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    assert_eq!(authid.len(), 64);

    let token = reqwest::Client::new()
        .post(format!("{url}/v1/token"))
        .bearer_auth(&authid)
        .send()
        .await
        .unwrap();
    assert_eq!(token.status(), 200);
    let token: serde_json::Value = token.json().await.unwrap();
    assert_eq!(token["provider"], "demo");
    assert!(token["access_token"]
        .as_str()
        .is_some_and(|t| !t.is_empty()));

    assert!(dir.path().join("master.key").exists());
    assert!(dir.path().join("broker.db").exists());
}

#[test]
fn dev_mode_refuses_a_non_loopback_address() {
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(BIN)
        .args(["dev", "--listen", "0.0.0.0:0", "--data-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("loopback"), "{stderr}");
}

#[test]
fn gen_key_prints_a_fresh_32_byte_key() {
    let run = || Command::new(BIN).arg("gen-key").output().unwrap();
    let (a, b) = (run(), run());
    let a = String::from_utf8(a.stdout).unwrap();
    let b = String::from_utf8(b.stdout).unwrap();
    assert_eq!(a.trim().len(), 44);
    assert_ne!(a, b);
}

#[test]
fn check_config_accepts_a_good_file_and_names_the_mistake_in_a_bad_one() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("master.key");
    let key_out = Command::new(BIN).arg("gen-key").output().unwrap();
    std::fs::write(&key, key_out.stdout).unwrap();
    let good = format!(
        "public_url = \"https://broker.example.com\"\n\
         database_url = \"sqlite:///tmp/x.db\"\n\
         master_key_file = \"{}\"\n\
         [providers.onedrive]\npreset = \"onedrive\"\nclient_id = \"id\"\nclient_secret = \"s\"\n",
        key.display()
    );
    let check = |text: &str| {
        let path = dir.path().join("broker.toml");
        std::fs::write(&path, text).unwrap();
        Command::new(BIN)
            .arg("check-config")
            .arg("--config")
            .arg(&path)
            .output()
            .unwrap()
    };

    let ok = check(&good);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(String::from_utf8_lossy(&ok.stdout).contains("https://broker.example.com/callback"));

    for (mistake, named) in [
        (
            good.replace("preset = \"onedrive\"", "preset = \"nope\""),
            "providers.onedrive.preset",
        ),
        (
            good.replace("client_id = \"id\"\n", ""),
            "providers.onedrive.client_id",
        ),
        (
            good.replace("https://broker.example.com", "ftp://x"),
            "public_url",
        ),
        (format!("{good}typo_key = 1\n"), "typo_key"),
        (good.replace("master.key", "missing.key"), "gen-key"),
    ] {
        let out = check(&mistake);
        assert!(!out.status.success());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(named), "expected `{named}` in: {stderr}");
    }
}

#[test]
fn healthcheck_succeeds_against_a_running_broker_and_fails_without_one() {
    let dir = tempfile::tempdir().unwrap();
    let (_dev, url) = start_dev(dir.path());
    let healthcheck = |url: &str| {
        Command::new(BIN)
            .args(["healthcheck", "--url", url])
            .output()
            .unwrap()
    };
    let up = healthcheck(&format!("{url}/healthz"));
    assert!(
        up.status.success(),
        "{}",
        String::from_utf8_lossy(&up.stderr)
    );

    // A port that was free a moment ago: nothing answers there.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed_url = format!("http://{}/healthz", closed.local_addr().unwrap());
    drop(closed);
    let down = healthcheck(&closed_url);
    assert!(!down.status.success());
    assert!(String::from_utf8_lossy(&down.stderr).contains("no answer"));

    let missing = healthcheck(&format!("{url}/no-such-page"));
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("404"));
}

fn location(response: &reqwest::Response) -> String {
    response.headers()["location"].to_str().unwrap().to_owned()
}

#[test]
fn man_writes_a_page_for_the_program_and_each_subcommand() {
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(BIN)
        .args(["man", "--out"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    // roff writes `-` as `\-`.
    let read = |page: &str| {
        let text = std::fs::read_to_string(dir.path().join(page)).unwrap();
        text.replace("\\-", "-")
    };
    let main = read("oauth-broker.1");
    for sub in ["serve", "dev", "migrate", "gen-key", "check-config"] {
        assert!(main.contains(sub), "oauth-broker.1 lacks {sub}");
        let page = read(&format!("oauth-broker-{sub}.1"));
        assert!(page.contains(".TH") && page.contains(&format!("oauth-broker-{sub}")));
    }
    assert!(!dir.path().join("oauth-broker-man.1").exists());
}
