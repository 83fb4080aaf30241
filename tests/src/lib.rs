//! Test support for Rill's cross-crate and browser tests: a static file server and a minimal
//! WebDriver client for headless Chromium, both over real TCP on 127.0.0.1 and std only.
//!
//! The browser tests drive pages in `www/` and `tests/browser/` the way a person's browser
//! would load them, and read results the pages publish on `window.rillResult`.
// Test hosts do I/O, read clocks and spawn processes by design.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

pub mod compat;
pub mod kafka;

/// The repository root.
#[must_use]
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ is in the repository").to_path_buf()
}

/// Fails with instructions when the browser packages have not been built.
pub fn require_wasm_package() {
    for name in ["rill_wasm_bg.wasm", "rill_dashboard_bg.wasm"] {
        let package = repo_root().join("www/pkg").join(name);
        assert!(
            package.exists(),
            "{} is missing: run ./scripts/build-wasm.sh (./scripts/test.sh does it for you)",
            package.display()
        );
    }
}

/// Where tests save screenshots (`target/screenshots`).
#[must_use]
pub fn screenshot_dir() -> PathBuf {
    let dir = repo_root().join("target/screenshots");
    std::fs::create_dir_all(&dir).expect("create target/screenshots");
    dir
}

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()) {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("wasm") => "application/wasm",
        Some("json") => "application/json",
        Some("css") => "text/css",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        _ => "application/octet-stream",
    }
}

/// Serves `www/` at `/` and `tests/browser/` at `/tests/` on 127.0.0.1 until dropped.
pub struct StaticServer {
    port: u16,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl StaticServer {
    /// Starts the server on a free port.
    #[must_use]
    pub fn start() -> StaticServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let port = listener.local_addr().expect("local address").port();
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = stop.clone();
        let root = repo_root();
        let thread = thread::spawn(move || {
            for stream in listener.incoming() {
                if stopping.load(Ordering::SeqCst) {
                    break;
                }
                if let Ok(stream) = stream {
                    let root = root.clone();
                    thread::spawn(move || serve(stream, &root));
                }
            }
        });
        StaticServer { port, stop, thread: Some(thread) }
    }

    /// The URL of a path on this server, e.g. `url("/embed.html")`.
    #[must_use]
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }
}

impl Drop for StaticServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn serve(stream: TcpStream, root: &Path) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let mut reader = BufReader::new(stream);
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    loop {
        let mut header = String::new();
        match reader.read_line(&mut header) {
            Ok(0) | Err(_) => break,
            Ok(_) if header == "\r\n" => break,
            Ok(_) => {}
        }
    }
    let path = request_line.split_whitespace().nth(1).unwrap_or("/");
    let path = path.split('?').next().unwrap_or("/");
    let file = if let Some(rest) = path.strip_prefix("/tests/") {
        root.join("tests/browser").join(rest)
    } else {
        root.join("www").join(path.trim_start_matches('/'))
    };
    let file = if file.is_dir() { file.join("index.html") } else { file };
    let mut stream = reader.into_inner();
    let safe = !path.contains("..");
    match std::fs::read(&file) {
        Ok(body) if safe => {
            let header = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: {}\r\nContent-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n",
                content_type(&file),
                body.len()
            );
            let _ = stream.write_all(header.as_bytes());
            let _ = stream.write_all(&body);
        }
        _ => {
            let _ = stream.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        }
    }
}

/// A free TCP port on 127.0.0.1.
#[must_use]
///
/// Ports come from 20000–32767, below Linux's ephemeral range (32768–60999): a port the
/// kernel picks with `bind(0)` can be handed again as the local port of an outgoing
/// connection, and then a broker restarting on it finds it taken.
pub fn free_port() -> u16 {
    free_ports(1)
}

/// The next port `free_port` and `free_ports` hand out, past this process's start.
static NEXT_PORT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

/// The first of `len` consecutive free ports (from 20000–32767, as [`free_port`]), none of them
/// handed out again by this process.
pub fn free_ports(len: u32) -> u16 {
    let start = (std::process::id() % 400) * 30;
    for _ in 0..12_000 {
        let offset = (start + NEXT_PORT.fetch_add(len, Ordering::SeqCst)) % 12_000;
        if offset + len > 12_000 {
            continue;
        }
        let first = u16::try_from(20_000 + offset).expect("below 32768");
        let free = (0..len).all(|i| {
            let port = first + u16::try_from(i).expect("small");
            TcpListener::bind(("127.0.0.1", port)).is_ok()
        });
        if free {
            return first;
        }
    }
    panic!("no {len} free ports in 20000-32000");
}

/// One HTTP/1.1 request to 127.0.0.1; returns the parsed JSON body.
fn http_json(port: u16, method: &str, path: &str, body: Option<&Value>) -> Result<Value, String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).map_err(|e| format!("connect: {e}"))?;
    stream.set_read_timeout(Some(Duration::from_secs(300))).map_err(|e| e.to_string())?;
    let payload = body.map(Value::to_string).unwrap_or_default();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{payload}",
        payload.len()
    );
    stream.write_all(request.as_bytes()).map_err(|e| format!("write: {e}"))?;
    // chromedriver keeps connections alive: read exactly the announced body.
    let mut reader = BufReader::new(stream);
    let mut content_length = None;
    let mut chunked = false;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).map_err(|e| format!("read: {e}"))? == 0 {
            return Err("connection closed before the headers ended".into());
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            let name = name.trim().to_ascii_lowercase();
            if name == "content-length" {
                content_length = value.trim().parse::<usize>().ok();
            } else if name == "transfer-encoding" && value.to_ascii_lowercase().contains("chunked") {
                chunked = true;
            }
        }
    }
    let body = if let Some(length) = content_length {
        let mut body = vec![0u8; length];
        reader.read_exact(&mut body).map_err(|e| format!("read body: {e}"))?;
        String::from_utf8_lossy(&body).into_owned()
    } else {
        let mut rest = String::new();
        reader.read_to_string(&mut rest).map_err(|e| format!("read body: {e}"))?;
        if chunked {
            dechunk(&rest)
        } else {
            rest
        }
    };
    serde_json::from_str(&body).map_err(|e| format!("bad JSON from WebDriver ({e}): {body}"))
}

fn dechunk(mut rest: &str) -> String {
    let mut out = String::new();
    while let Some((size, after)) = rest.split_once("\r\n") {
        let Ok(size) = usize::from_str_radix(size.trim(), 16) else { break };
        if size == 0 || after.len() < size {
            break;
        }
        out.push_str(&after[..size]);
        rest = after[size..].trim_start_matches("\r\n");
    }
    out
}

/// A headless Chromium session driven over WebDriver (chromedriver). Closed on drop.
pub struct Browser {
    driver: Child,
    port: u16,
    session: String,
}

impl Browser {
    /// Starts chromedriver and a headless Chromium with the flags that work on this machine.
    #[must_use]
    pub fn start() -> Browser {
        let chromedriver = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into());
        let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
        assert!(
            Path::new(&chromedriver).exists() && Path::new(&chromium).exists(),
            "{chromedriver} or {chromium} is missing: run ./scripts/setup.sh (apt packages chromium, chromium-driver)"
        );
        let port = free_port();
        let driver = Command::new(&chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let mut browser = Browser { driver, port, session: String::new() };
        let deadline = Instant::now() + Duration::from_secs(30);
        while http_json(port, "GET", "/status", None).map_or(true, |status| status["value"]["ready"] != json!(true)) {
            assert!(Instant::now() < deadline, "chromedriver did not become ready");
            thread::sleep(Duration::from_millis(100));
        }
        let profile = std::env::temp_dir().join(format!("rill-chromium-{}-{port}", std::process::id()));
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                         "--disable-background-networking", "--disable-component-update", "--disable-sync",
                         "--disable-dev-shm-usage", "--window-size=1280,800",
                         format!("--user-data-dir={}", profile.display())]
            }
        }}});
        let response = http_json(port, "POST", "/session", Some(&capabilities)).expect("new WebDriver session");
        browser.session =
            response["value"]["sessionId"].as_str().unwrap_or_else(|| panic!("no session: {response}")).to_owned();
        browser
    }

    fn command(&self, method: &str, path: &str, body: Option<&Value>) -> Value {
        let path = format!("/session/{}{path}", self.session);
        let response =
            http_json(self.port, method, &path, body).unwrap_or_else(|error| panic!("WebDriver {path}: {error}"));
        if let Some(error) = response["value"].get("error") {
            panic!("WebDriver {path} failed: {error}: {}", response["value"]["message"]);
        }
        response["value"].clone()
    }

    /// Opens a URL.
    pub fn goto(&self, url: &str) {
        self.command("POST", "/url", Some(&json!({ "url": url })));
    }

    /// Runs a script in the page and returns its value.
    pub fn eval(&self, script: &str) -> Value {
        self.command("POST", "/execute/sync", Some(&json!({ "script": script, "args": [] })))
    }

    /// Waits until the page publishes `window.rillResult`, and returns it.
    pub fn wait_for_result(&self, timeout: Duration) -> Value {
        let deadline = Instant::now() + timeout;
        loop {
            let value = self.eval("return window.rillResult ?? null;");
            if !value.is_null() {
                return value;
            }
            assert!(Instant::now() < deadline, "the page published no result within {timeout:?}");
            thread::sleep(Duration::from_millis(100));
        }
    }

    /// Clicks the first element matching a CSS selector, the way a user would (WebDriver
    /// element click: scrolled into view, must be visible and not covered).
    pub fn click(&self, css: &str) {
        let element = self.command("POST", "/element", Some(&json!({ "using": "css selector", "value": css })));
        let id = element
            .as_object()
            .and_then(|object| object.values().next())
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("no element {css}: {element}"))
            .to_owned();
        self.command("POST", &format!("/element/{id}/click"), Some(&json!({})));
    }

    fn press(&self, key: &str) {
        let actions = json!({ "actions": [{ "type": "key", "id": "keyboard", "actions": [
            { "type": "keyDown", "value": key }, { "type": "keyUp", "value": key }
        ] }] });
        self.command("POST", "/actions", Some(&actions));
    }

    /// Presses Enter on the focused element.
    pub fn press_enter(&self) {
        self.press("\u{E007}");
    }

    /// Presses Tab (focus moves to the next control).
    pub fn press_tab(&self) {
        self.press("\u{E004}");
    }

    /// Resizes the window (CSS pixels of the outer window).
    pub fn set_window_size(&self, width: u32, height: u32) {
        self.command("POST", "/window/rect", Some(&json!({ "width": width, "height": height })));
    }

    /// Waits until `script` (a function body) returns something other than null/false; returns it.
    pub fn wait_until(&self, script: &str, timeout: Duration) -> Value {
        let deadline = Instant::now() + timeout;
        loop {
            let value = self.eval(script);
            if !value.is_null() && value != json!(false) {
                return value;
            }
            assert!(Instant::now() < deadline, "timed out after {timeout:?} waiting for: {script}");
            thread::sleep(Duration::from_millis(50));
        }
    }

    /// Saves a PNG screenshot.
    pub fn screenshot(&self, path: &Path) {
        let value = self.command("GET", "/screenshot", None);
        let data = value.as_str().expect("base64 screenshot");
        std::fs::write(path, base64_decode(data)).expect("write screenshot");
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let _ = http_json(self.port, "DELETE", &format!("/session/{}", self.session), None);
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

fn base64_decode(text: &str) -> Vec<u8> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    };
    let digits: Vec<u8> = text.bytes().filter_map(value).collect();
    let mut out = Vec::with_capacity(digits.len() * 3 / 4);
    for chunk in digits.chunks(4) {
        let bits = chunk.iter().enumerate().fold(0u32, |acc, (i, d)| acc | (u32::from(*d) << (18 - 6 * i)));
        let bytes = bits.to_be_bytes();
        out.extend_from_slice(&bytes[1..chunk.len()]);
    }
    out
}

/// The release `rill` binary, built first if needed (`cargo build --release -p rill-broker
/// --bin rill`, as `scripts/run.sh` builds it), for benchmarks.
///
/// # Panics
/// When the build fails.
#[must_use]
pub fn rill_release_binary() -> PathBuf {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .args(["build", "--release", "--locked", "-p", "rill-broker", "--bin", "rill"])
        .current_dir(repo_root())
        .status()
        .expect("run cargo build --release");
    assert!(status.success(), "building the release rill binary failed");
    let target = std::env::var("CARGO_TARGET_DIR").map_or_else(|_| repo_root().join("target"), PathBuf::from);
    target.join("release/rill")
}

/// The `rill` binary, built first if needed (`cargo build -p rill-broker --bin rill`).
#[must_use]
pub fn rill_binary() -> PathBuf {
    static BUILT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BUILT
        .get_or_init(|| {
            let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
            let status = Command::new(cargo)
                .args(["build", "--locked", "-p", "rill-broker", "--bin", "rill"])
                .current_dir(repo_root())
                .status()
                .expect("run cargo build");
            assert!(status.success(), "building the rill binary failed");
            let target = std::env::var("CARGO_TARGET_DIR").map_or_else(|_| repo_root().join("target"), PathBuf::from);
            target.join("debug/rill")
        })
        .clone()
}

/// A `rill broker` process on 127.0.0.1 with its own log directory; killed on drop.
pub struct RillBroker {
    child: Option<Child>,
    /// Kafka port.
    pub port: u16,
    /// `/metrics` port.
    pub metrics_port: u16,
    /// `log.dirs`.
    pub log_dir: PathBuf,
    log_file: PathBuf,
    extra: Vec<String>,
    args: Vec<String>,
    binary: PathBuf,
}

/// `n` `rill` processes forming one cluster (`rill.cluster.nodes`), node 1 hosting the controller.
pub struct RillCluster {
    /// The nodes, index = node id − 1.
    pub brokers: Vec<RillBroker>,
}

impl RillCluster {
    /// Starts `n` nodes with directories under `dir`.
    #[must_use]
    pub fn start(dir: &Path, n: usize) -> RillCluster {
        RillCluster::start_with(dir, n, &[])
    }

    /// [`RillCluster::start`] with more broker configs on every node (`key=value`).
    #[must_use]
    pub fn start_with(dir: &Path, n: usize, configs: &[&str]) -> RillCluster {
        RillCluster::start_with_each(dir, n, configs, |_, _| Vec::new())
    }

    /// [`RillCluster::start_with`] plus configs for node `id` alone (`per_node(id, its Kafka
    /// port)`).
    #[must_use]
    pub fn start_with_each(
        dir: &Path,
        n: usize,
        configs: &[&str],
        per_node: impl Fn(usize, u16) -> Vec<String>,
    ) -> RillCluster {
        let mut cluster = RillCluster::configure_each(dir, n, configs, per_node);
        for broker in &mut cluster.brokers {
            broker.restart();
        }
        cluster
    }

    /// [`RillCluster::start_with_each`] without starting the nodes (to format them first:
    /// [`RillBroker::format`]).
    #[must_use]
    pub fn configure_each(
        dir: &Path,
        n: usize,
        configs: &[&str],
        per_node: impl Fn(usize, u16) -> Vec<String>,
    ) -> RillCluster {
        let ports: Vec<(u16, u16)> = (0..n).map(|_| (free_port(), free_port())).collect();
        let nodes: Vec<String> = ports
            .iter()
            .enumerate()
            .map(|(i, (kafka, internal))| format!("{}@127.0.0.1:{kafka}:{internal}", i + 1))
            .collect();
        let nodes = nodes.join(",");
        let brokers: Vec<RillBroker> = ports
            .iter()
            .enumerate()
            .map(|(i, (kafka, _))| RillBroker {
                child: None,
                port: *kafka,
                metrics_port: free_port(),
                log_dir: dir.join(format!("node-{}", i + 1)),
                log_file: dir.join(format!("node-{}.log", i + 1)),
                args: Vec::new(),
                binary: rill_binary(),
                extra: [
                    format!("node.id={}", i + 1),
                    format!("rill.cluster.nodes={nodes}"),
                    format!("offsets.topic.replication.factor={}", n.min(3)),
                ]
                .into_iter()
                .chain(configs.iter().map(|pair| (*pair).to_owned()))
                .chain(per_node(i + 1, *kafka))
                .collect(),
            })
            .collect();
        std::fs::create_dir_all(dir).expect("cluster directory");
        RillCluster { brokers }
    }

    /// All nodes' Kafka addresses, comma-separated.
    #[must_use]
    pub fn bootstrap(&self) -> String {
        self.brokers.iter().map(RillBroker::bootstrap).collect::<Vec<_>>().join(",")
    }
}

impl RillBroker {
    /// Starts a one-broker cluster in `log_dir` (created if needed).
    #[must_use]
    pub fn start(log_dir: &Path) -> RillBroker {
        RillBroker::start_with(log_dir, &[])
    }

    /// [`RillBroker::start`] with more `rill broker` arguments (e.g. `--www DIR`).
    #[must_use]
    pub fn start_with(log_dir: &Path, args: &[&str]) -> RillBroker {
        RillBroker::start_binary(rill_binary(), log_dir, args)
    }

    /// [`RillBroker::start`] with the release build (benchmarks).
    #[must_use]
    pub fn start_release(log_dir: &Path) -> RillBroker {
        RillBroker::start_binary(rill_release_binary(), log_dir, &[])
    }

    fn start_binary(binary: PathBuf, log_dir: &Path, args: &[&str]) -> RillBroker {
        let mut broker = RillBroker {
            child: None,
            port: free_port(),
            metrics_port: free_port(),
            log_dir: log_dir.to_path_buf(),
            log_file: log_dir.with_extension("log"),
            extra: Vec::new(),
            args: args.iter().map(|a| (*a).to_owned()).collect(),
            binary,
        };
        broker.restart();
        broker
    }

    /// `127.0.0.1:port`.
    #[must_use]
    pub fn bootstrap(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Starts the process again (after `kill`) on the same ports and directory, and waits until
    /// it accepts connections.
    pub fn restart(&mut self) {
        self.spawn();
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(self.is_running(), "the broker exited on start:\n{}", self.log());
            assert!(Instant::now() < deadline, "the broker did not start listening");
            thread::sleep(Duration::from_millis(50));
        }
    }

    /// One more config (`key=value`) for the next start (it wins over the earlier ones).
    pub fn add_setting(&mut self, pair: String) {
        self.extra.push(pair);
    }

    /// `rill format` with this node's configs and `args` (`--standalone`, ...): what it printed
    /// on stdout, or why it failed.
    pub fn format(&self, args: &[&str]) -> Result<String, String> {
        let out = Command::new(&self.binary)
            .arg("format")
            .args(self.settings().iter().flat_map(|pair| ["--set".to_owned(), pair.clone()]))
            .args(args)
            .output()
            .expect("run rill format");
        let said = String::from_utf8_lossy(&out.stdout).into_owned();
        if out.status.success() {
            Ok(said)
        } else {
            Err(format!("{said}{}", String::from_utf8_lossy(&out.stderr)))
        }
    }

    /// The node's configs as `rill broker --set` gets them, in order (later ones win): a
    /// `server.properties` for Kafka's tools when written one per line.
    #[must_use]
    pub fn settings(&self) -> Vec<String> {
        [format!("listeners=PLAINTEXT://127.0.0.1:{}", self.port), format!("log.dirs={}", self.log_dir.display())]
            .into_iter()
            .chain(self.extra.iter().cloned())
            .collect()
    }

    /// Starts the process again (after `kill`) without waiting for it to listen (it may stop
    /// at once).
    pub fn spawn(&mut self) {
        assert!(self.child.is_none(), "already running");
        let log = std::fs::OpenOptions::new().create(true).append(true).open(&self.log_file).expect("broker log file");
        let child = Command::new(&self.binary)
            .args(["broker", "--http-port", &self.metrics_port.to_string()])
            .args(self.settings().iter().flat_map(|pair| ["--set".to_owned(), pair.clone()]))
            .args(&self.args)
            .stdout(Stdio::from(log.try_clone().expect("clone log handle")))
            .stderr(Stdio::from(log))
            .spawn()
            .expect("start rill broker");
        self.child = Some(child);
    }

    /// `kill -9`.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Freezes the process (SIGSTOP), like a long GC pause: it holds its sockets and does nothing.
    pub fn pause(&self) {
        self.signal("-STOP");
    }

    /// Unfreezes a paused process (SIGCONT); what reached its sockets meanwhile is processed.
    pub fn resume(&self) {
        self.signal("-CONT");
    }

    fn signal(&self, signal: &str) {
        let pid = self.child.as_ref().expect("running").id().to_string();
        let status = Command::new("kill").args([signal, &pid]).status().expect("run kill");
        assert!(status.success(), "kill {signal} {pid} failed");
    }

    /// Still running (not exited, not panicked).
    pub fn is_running(&mut self) -> bool {
        self.child.as_mut().is_some_and(|child| child.try_wait().ok().flatten().is_none())
    }

    /// What the broker logged so far.
    #[must_use]
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_file).unwrap_or_default()
    }

    /// GET /metrics.
    #[must_use]
    pub fn metrics(&self) -> String {
        let mut stream = TcpStream::connect(("127.0.0.1", self.metrics_port)).expect("connect to /metrics");
        stream.write_all(b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").expect("request /metrics");
        let mut text = String::new();
        let _ = stream.read_to_string(&mut text);
        text
    }
}

/// Every batch of one Rill replica's copy of a partition (`<log.dirs>/<topic>-<partition>`),
/// read from a copy of its directory in `scratch` (the broker keeps its files open).
///
/// # Panics
/// When the directory cannot be copied or read as a Rill log.
#[must_use]
pub fn rill_batches_on_disk(dir: &Path, scratch: &Path) -> Vec<rill_core::record::RecordBatch> {
    use rill_core::storage::Storage;
    let _ = std::fs::remove_dir_all(scratch);
    std::fs::create_dir_all(scratch).expect("scratch dir");
    for entry in std::fs::read_dir(dir).expect("partition dir") {
        let path = entry.expect("entry").path();
        std::fs::copy(&path, scratch.join(path.file_name().expect("file name"))).expect("copy segment");
    }
    let storage = rill_broker::storage::FileStorage::open(scratch).expect("open the copy");
    let mut batches = Vec::new();
    let mut offset = storage.log_start_offset();
    while offset < storage.log_end_offset() {
        let read = storage.read(offset, 1 << 20).expect("read");
        let Some(last) = read.last() else { break };
        offset = last.next_offset();
        batches.extend(read);
    }
    batches
}

/// A Kafka-compatible target a test runs the same steps against: one Rill broker, a Rill
/// cluster, or Apache Kafka itself.
pub trait Target {
    /// Every broker's `127.0.0.1:port`, comma-separated.
    fn bootstrap(&self) -> String;
    /// The replication factor topics get in tests (the cluster's size, at most 3).
    fn replication_factor(&self) -> i16;
    /// Every batch the broker stored for one partition, read from its files.
    fn batches_on_disk(&self, topic: &str, partition: i32) -> Vec<rill_core::record::RecordBatch>;
}

impl Target for RillBroker {
    fn bootstrap(&self) -> String {
        RillBroker::bootstrap(self)
    }
    fn replication_factor(&self) -> i16 {
        1
    }
    fn batches_on_disk(&self, topic: &str, partition: i32) -> Vec<rill_core::record::RecordBatch> {
        let dir = self.log_dir.join(format!("{topic}-{partition}"));
        rill_batches_on_disk(&dir, &dir.with_extension("copy"))
    }
}

impl Target for RillCluster {
    fn bootstrap(&self) -> String {
        RillCluster::bootstrap(self)
    }
    fn replication_factor(&self) -> i16 {
        i16::try_from(self.brokers.len().min(3)).expect("small")
    }
    /// Node 1's copy (with replication factor 3 on 3 nodes every node holds every batch).
    fn batches_on_disk(&self, topic: &str, partition: i32) -> Vec<rill_core::record::RecordBatch> {
        self.brokers[0].batches_on_disk(topic, partition)
    }
}

impl Drop for RillBroker {
    fn drop(&mut self) {
        self.kill();
    }
}

/// (leader, leader epoch, ISR size) of each partition of `topic`, from `rill topics describe`
/// (a Kafka admin client: it works against Kafka too); empty when the command fails.
#[must_use]
pub fn describe_topic(bootstrap: &str, topic: &str) -> std::collections::BTreeMap<i64, (i64, i64, usize)> {
    let output = Command::new(rill_binary())
        .args(["topics", "describe", "--bootstrap-server", bootstrap, "--topic", topic])
        .output()
        .expect("run rill topics describe");
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    let field = |line: &str, name: &str| -> String {
        line.split('\t').find_map(|f| f.strip_prefix(name)).unwrap_or_default().trim().to_owned()
    };
    text.lines()
        .filter(|line| line.contains("Partition: "))
        .map(|line| {
            let number = |name: &str| field(line, name).parse::<i64>().unwrap_or(-1);
            let isr = field(line, "Isr: ").split(',').filter(|id| !id.is_empty()).count();
            (number("Partition: "), (number("Leader: "), number("LeaderEpoch: "), isr))
        })
        .collect()
}
