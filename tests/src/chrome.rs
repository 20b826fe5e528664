//! A real headless Chromium, driven over WebDriver by ChromeDriver, for the browser tests.
//!
//! [`Chrome::start`] runs `chromedriver` on a free loopback port and opens a session in a fresh
//! profile, with the features that would reach out to the network turned off. Without
//! `chromium` or `chromedriver` on `PATH` it prints one `SKIP browser: ...` line and returns
//! `None`; `OAUTH_TEST_REQUIRE_SERVICES=1` turns that into a failure. Dropping a [`Chrome`]
//! quits the browser and stops chromedriver, also when the test panicked.
//!
//! Failure artifacts: when a test body run through [`Chrome::check`] panics, a PNG screenshot of
//! the page the browser was on goes to `target/browser-artifacts/<test name>.png` under the
//! workspace root (always there, whatever `CARGO_TARGET_DIR` says), and the failure output
//! names the file.

use fantoccini::elements::Element;
use fantoccini::wd::{Capabilities, WebDriverCompatibleCommand, WindowHandle};
use fantoccini::{Client, ClientBuilder, Locator};
use futures::FutureExt as _;
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{json, Value};
use std::future::Future;
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::Once;
use std::time::Duration;
use tokio::sync::oneshot;
use tokio::time::Instant;
use url::Url;

/// The longest any one wait for the browser may take.
pub const WAIT: Duration = Duration::from_secs(15);

/// The longest chromedriver and Chromium may take to start.
const START: Duration = Duration::from_secs(30);

/// How often a wait looks again.
const POLL: Duration = Duration::from_millis(50);

/// Chromium's switches: headless, and nothing that would call out to the network by itself.
const SWITCHES: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,900",
];

const MISSING: &str =
    "chromium or chromedriver not installed (apt-get install chromium chromium-driver)";

/// A headless Chromium session; the browser and chromedriver stop when it is dropped.
pub struct Chrome {
    // Field order is drop order: the session, then chromedriver, then the profile directory.
    client: Client,
    _driver: Driver,
    _profile: tempfile::TempDir,
    test: String,
}

impl Chrome {
    /// Starts chromedriver and a browser session, or returns `None` after the skip line when
    /// either program is missing (and `OAUTH_TEST_REQUIRE_SERVICES` is not `1`).
    pub async fn start() -> Option<Self> {
        let (Some(chromium), Some(chromedriver)) = (program("chromium"), program("chromedriver"))
        else {
            skip();
            return None;
        };
        let driver = Driver::spawn(&chromedriver).await;
        let profile = tempfile::tempdir().unwrap();
        let client = connect(&driver.url, &chromium, profile.path()).await;
        Some(Self {
            client,
            _driver: driver,
            _profile: profile,
            test: test_name(),
        })
    }

    /// The WebDriver client, for what the helpers here do not cover (windows, scripts).
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Runs `body`; if it panics, saves a screenshot of the current page (see the module
    /// documentation for where) and fails with the same panic.
    pub async fn check(&self, body: impl Future<Output = ()>) {
        if let Err(panic) = AssertUnwindSafe(body).catch_unwind().await {
            self.save_screenshot().await;
            std::panic::resume_unwind(panic);
        }
    }

    /// Ends the session, which quits the browser; dropping then stops chromedriver.
    pub async fn close(self) {
        let closing = self.client.clone().close();
        match tokio::time::timeout(WAIT, closing).await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => panic!("ending the browser session failed: {error}"),
            Err(_) => panic!("the browser session did not end within {WAIT:?}"),
        }
    }

    /// Opens `url` in the current window and waits for it to load.
    pub async fn goto(&self, url: &str) {
        self.client.goto(url).await.unwrap();
    }

    /// The current window's URL.
    pub async fn url(&self) -> Url {
        self.client.current_url().await.unwrap()
    }

    /// The first element matching `css`, once there is one.
    pub async fn find(&self, css: &str) -> Element {
        let wait = self.client.wait().at_most(WAIT).every(POLL);
        match wait.for_element(Locator::Css(css)).await {
            Ok(element) => element,
            Err(error) => panic!("no `{css}` on {}: {error}", self.url().await),
        }
    }

    /// Whether anything on the current page matches `css` right now.
    pub async fn has(&self, css: &str) -> bool {
        let found = self.client.find_all(Locator::Css(css)).await.unwrap();
        !found.is_empty()
    }

    /// Clicks the element matching `css` once it is there.
    pub async fn click(&self, css: &str) {
        self.find(css).await.click().await.unwrap();
    }

    /// The visible text of the element matching `css`.
    pub async fn text(&self, css: &str) -> String {
        self.find(css).await.text().await.unwrap()
    }

    /// The `value` of the form field matching `css`.
    pub async fn value(&self, css: &str) -> String {
        let value = self.find(css).await.prop("value").await.unwrap();
        value.unwrap_or_default()
    }

    /// Waits until `ready` holds for the current URL, and returns it; `what` names the wait
    /// in the failure message.
    pub async fn wait_for_url(&self, what: &str, ready: impl Fn(&Url) -> bool) -> Url {
        let deadline = Instant::now() + WAIT;
        loop {
            let url = self.url().await;
            if ready(&url) {
                return url;
            }
            assert!(Instant::now() < deadline, "{what}: still on {url}");
            tokio::time::sleep(POLL).await;
        }
    }

    /// Waits until the element matching `css` has text, and returns it.
    pub async fn wait_for_text(&self, css: &str) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            let text = self.text(css).await;
            if !text.is_empty() {
                return text;
            }
            assert!(Instant::now() < deadline, "`{css}` stayed empty");
            tokio::time::sleep(POLL).await;
        }
    }

    /// Waits for a window other than `known` (a popup) and returns its handle.
    pub async fn new_window(&self, known: &WindowHandle) -> WindowHandle {
        let deadline = Instant::now() + WAIT;
        loop {
            let windows = self.client.windows().await.unwrap();
            if let Some(window) = windows.into_iter().find(|window| window != known) {
                return window;
            }
            assert!(Instant::now() < deadline, "no new window opened");
            tokio::time::sleep(POLL).await;
        }
    }

    /// Sends a Chrome DevTools Protocol command through chromedriver; returns its result.
    pub async fn cdp(&self, method: &str, params: Value) -> Value {
        let body = json!({"cmd": method, "params": params}).to_string();
        match self.client.issue_cmd(CdpCommand { body }).await {
            Ok(result) => result,
            Err(error) => panic!("CDP {method}: {error}"),
        }
    }

    /// Lets pages of `origin` read and write the clipboard without asking.
    pub async fn grant_clipboard(&self, origin: &str) {
        let permissions = ["clipboardReadWrite", "clipboardSanitizedWrite"];
        let params = json!({"origin": origin, "permissions": permissions});
        self.cdp("Browser.grantPermissions", params).await;
    }

    /// The clipboard's text, read by the current page (see [`Chrome::grant_clipboard`]).
    pub async fn clipboard(&self) -> String {
        let script = "const done = arguments[arguments.length - 1];\n\
                      navigator.clipboard.readText().then(done, (e) => done({error: String(e)}));";
        let read = self.client.execute_async(script, Vec::new()).await.unwrap();
        match read.as_str() {
            Some(text) => text.to_owned(),
            None => panic!("reading the clipboard failed: {read}"),
        }
    }

    async fn save_screenshot(&self) {
        let path = artifacts_dir().join(format!("{}.png", self.test));
        let png = match tokio::time::timeout(WAIT, self.client.screenshot()).await {
            Ok(Ok(png)) => png,
            Ok(Err(error)) => return eprintln!("no screenshot of the failing page: {error}"),
            Err(_) => return eprintln!("no screenshot of the failing page: the browser hangs"),
        };
        let saved =
            std::fs::create_dir_all(artifacts_dir()).and_then(|()| std::fs::write(&path, png));
        match saved {
            Ok(()) => eprintln!("screenshot of the failing page: {}", path.display()),
            Err(error) => eprintln!("could not save {}: {error}", path.display()),
        }
    }
}

/// `target/browser-artifacts` under the workspace root.
fn artifacts_dir() -> PathBuf {
    let tests_crate = Path::new(env!("CARGO_MANIFEST_DIR"));
    let root = tests_crate.parent().unwrap_or(tests_crate);
    root.join("target").join("browser-artifacts")
}

/// The running test's name: the test harness names each test's thread after it.
fn test_name() -> String {
    let thread = std::thread::current();
    thread.name().unwrap_or("browser-test").replace("::", "-")
}

/// `name` on `PATH`, if it is there.
fn program(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// Prints the skip line, once per test binary, or fails when the environment requires the
/// browser.
fn skip() {
    let required = std::env::var("OAUTH_TEST_REQUIRE_SERVICES").is_ok_and(|v| v == "1");
    assert!(
        !required,
        "{MISSING}; OAUTH_TEST_REQUIRE_SERVICES=1 requires them"
    );
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // Straight to stderr: the test harness captures `eprintln!` of passing tests.
        let line = format!("SKIP browser: {MISSING}\n");
        let _ = std::io::stderr().write_all(line.as_bytes());
    });
}

/// Opens a session of `chromium` with [`SWITCHES`] and the profile in `profile`.
async fn connect(driver_url: &str, chromium: &Path, profile: &Path) -> Client {
    let mut args: Vec<String> = SWITCHES.iter().map(|s| (*s).to_owned()).collect();
    args.push(format!("--user-data-dir={}", profile.display()));
    let options = json!({"binary": chromium, "args": args});
    let mut capabilities = Capabilities::new();
    capabilities.insert("browserName".into(), json!("chrome"));
    capabilities.insert("goog:chromeOptions".into(), options);

    let mut builder = ClientBuilder::new(HttpConnector::new());
    builder.capabilities(capabilities);
    match tokio::time::timeout(START, builder.connect(driver_url)).await {
        Ok(Ok(client)) => client,
        Ok(Err(error)) => panic!("Chromium did not start: {error}"),
        Err(_) => panic!("Chromium did not start within {START:?}"),
    }
}

/// The chromedriver process; dropping it quits its browsers and kills it.
struct Driver {
    child: Child,
    /// `http://127.0.0.1:PORT`; empty until chromedriver has said its port.
    url: String,
}

impl Driver {
    /// Starts chromedriver on a port of its choosing and waits until it is ready.
    async fn spawn(program: &Path) -> Self {
        let mut child = Command::new(program)
            .arg("--port=0")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|error| panic!("{} does not start: {error}", program.display()));
        let stdout = child.stdout.take().expect("a piped stdout");
        let mut driver = Self {
            child,
            url: String::new(),
        };

        let (port_tx, port_rx) = oneshot::channel();
        std::thread::spawn(move || read_port(stdout, port_tx));
        let port = match tokio::time::timeout(START, port_rx).await {
            Ok(Ok(port)) => port,
            Ok(Err(_)) => panic!("chromedriver exited before saying its port"),
            Err(_) => panic!("chromedriver did not say its port within {START:?}"),
        };
        driver.url = format!("http://127.0.0.1:{port}");
        driver.wait_ready().await;
        driver
    }

    /// Polls `GET /status` until chromedriver says it is ready.
    async fn wait_ready(&self) {
        let http = reqwest::Client::new();
        let status = format!("{}/status", self.url);
        let deadline = Instant::now() + START;
        loop {
            let answer = http.get(&status).timeout(POLL * 20).send().await;
            let ready = match answer {
                Ok(response) => response.json::<Value>().await.ok(),
                Err(_) => None,
            };
            if ready.is_some_and(|body| body["value"]["ready"] == true) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "chromedriver at {} never got ready",
                self.url
            );
            tokio::time::sleep(POLL).await;
        }
    }

    /// Asks chromedriver to quit its browsers and exit (`GET /shutdown`), synchronously, since
    /// this runs in `drop`, also while a test unwinds.
    fn shutdown(&self) -> std::io::Result<()> {
        let address = self.url.trim_start_matches("http://");
        let mut stream = TcpStream::connect(address)?;
        stream.set_read_timeout(Some(WAIT))?;
        stream.set_write_timeout(Some(WAIT))?;
        let request =
            format!("GET /shutdown HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes())?;
        // The answer comes once the browsers are gone; read it to the end to wait for that.
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).map(|_| ())
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        if !self.url.is_empty() {
            let _ = self.shutdown();
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Reads chromedriver's output for the "started successfully on port N." line, sends N, and
/// keeps reading so chromedriver never blocks on a full pipe.
fn read_port(stdout: ChildStdout, port: oneshot::Sender<u16>) {
    let mut port = Some(port);
    for line in BufReader::new(stdout).lines() {
        let Ok(line) = line else { return };
        let announced = line
            .split_once("started successfully on port ")
            .and_then(|(_, rest)| rest.trim().trim_end_matches('.').parse::<u16>().ok());
        if let Some(number) = announced {
            if let Some(sender) = port.take() {
                let _ = sender.send(number);
            }
        }
    }
}

/// A DevTools command sent through chromedriver's `goog/cdp/execute` endpoint.
#[derive(Debug)]
struct CdpCommand {
    body: String,
}

impl WebDriverCompatibleCommand for CdpCommand {
    fn endpoint(&self, base: &Url, session: Option<&str>) -> Result<Url, url::ParseError> {
        let session = session.unwrap_or_default();
        base.join(&format!("session/{session}/goog/cdp/execute"))
    }

    fn method_and_body(&self, _url: &Url) -> (http::Method, Option<String>) {
        (http::Method::POST, Some(self.body.clone()))
    }
}
