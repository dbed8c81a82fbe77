//! The AWS emulator for the collector tests: a few moto servers per test module (an [`Emulator`]
//! static; started from the project venv's python on free loopback ports, reset through its API
//! before each test; each test has a server to itself, or shares one that was seeded once and is
//! only read), the
//! seeding scripts, and a loopback proxy that can answer some requests itself (throttling, regions
//! that are not enabled) and forwards the others to moto.
#![allow(dead_code)]
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Output, Stdio};
use std::sync::{Arc, Once, OnceLock, RwLock, RwLockReadGuard, RwLockWriteGuard, TryLockError};

pub const ACCOUNT: &str = "123456789012";

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The environment of in-process collections (the library reads credentials from it): moto's test
/// credentials, no profile, region or endpoint of the machine; set once, before any test of the
/// process reads it.
pub fn test_env() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        for (k, v) in [
            ("AWS_ACCESS_KEY_ID", "testing"),
            ("AWS_SECRET_ACCESS_KEY", "testing"),
            ("AWS_EC2_METADATA_DISABLED", "true"),
            ("AWS_CONFIG_FILE", "/nonexistent/cwl-audit-test/config"),
            (
                "AWS_SHARED_CREDENTIALS_FILE",
                "/nonexistent/cwl-audit-test/credentials",
            ),
        ] {
            std::env::set_var(k, v);
        }
        for k in [
            "AWS_SESSION_TOKEN",
            "AWS_PROFILE",
            "AWS_REGION",
            "AWS_DEFAULT_REGION",
            "AWS_ENDPOINT_URL",
        ] {
            std::env::remove_var(k);
        }
    });
}

/// The python with moto: `CWL_AUDIT_PYTHON` (set by `make test`), else the project's `.venv`.
/// `None` only when `CWL_AUDIT_SKIP_EMULATOR=1` says to skip; otherwise a missing python fails.
pub fn python() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("CWL_AUDIT_PYTHON").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    if std::env::var("CWL_AUDIT_SKIP_EMULATOR").as_deref() == Ok("1") {
        eprintln!("CWL_AUDIT_SKIP_EMULATOR=1: emulator test skipped");
        return None;
    }
    let venv = root().join(".venv/bin/python");
    if venv.exists() {
        return Some(venv);
    }
    panic!(
        "the collector tests need moto (the AWS emulator): run `make test`, which installs .venv and \
         sets CWL_AUDIT_PYTHON, or set CWL_AUDIT_PYTHON to a python with `moto[server]` and boto3 \
         (requirements-test.txt). CWL_AUDIT_SKIP_EMULATOR=1 skips these tests explicitly."
    );
}

struct Server {
    port: u16,
    // Held open: the launcher stops moto when its stdin closes (this process exited).
    _stdin: ChildStdin,
    _child: Child,
}

/// How many moto servers a module may start. A test that resets and seeds needs a server to
/// itself, and most of its time is spent waiting on moto (a Python process) or the AWS CLI, so a
/// module's tests run on up to this many servers at once instead of queueing on one.
const POOL: usize = 3;

/// A module's moto servers (started on first use, up to [`POOL`]) and the locks that give a test
/// exclusive use of one. A module's own static: a reset by one module's test never wipes what
/// another module seeded.
pub struct Emulator {
    servers: [OnceLock<Server>; POOL],
    locks: [RwLock<()>; POOL],
}

enum Guard {
    /// A test that resets and writes: the server is its own.
    Exclusive(RwLockWriteGuard<'static, ()>),
    /// Tests that only read what the first of them seeded: any number at once.
    Shared(RwLockReadGuard<'static, ()>),
}

/// Use of one of a module's moto servers, reset to empty (or as its seeding left it).
pub struct Moto {
    pub port: u16,
    python: PathBuf,
    _guard: Guard,
}

impl Emulator {
    pub const fn new() -> Emulator {
        Emulator {
            servers: [const { OnceLock::new() }; POOL],
            locks: [const { RwLock::new(()) }; POOL],
        }
    }

    fn server(&'static self, i: usize, python: &Path) -> &'static Server {
        self.servers[i].get_or_init(|| {
            let mut child = Command::new(python)
                .arg(root().join("tests/support/moto_server.py"))
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit())
                .spawn()
                .unwrap_or_else(|e| panic!("cannot run {}: {e}", python.display()));
            let mut line = String::new();
            BufReader::new(child.stdout.take().expect("stdout"))
                .read_line(&mut line)
                .expect("read the port");
            let port = line.trim().parse().unwrap_or_else(|_| {
                panic!("moto did not start (is moto[server] installed for {}? run `make test`); printed {line:?}", python.display())
            });
            Server {
                port,
                _stdin: child.stdin.take().expect("stdin"),
                _child: child,
            }
        })
    }

    /// A free server of the pool, for this test alone: the first one no test holds (a panicked
    /// test's lock is as good as free: the next test resets the server anyway), else wait.
    fn exclusive(&'static self) -> (usize, RwLockWriteGuard<'static, ()>) {
        loop {
            for (i, lock) in self.locks.iter().enumerate() {
                match lock.try_write() {
                    Ok(g) => return (i, g),
                    Err(TryLockError::Poisoned(e)) => return (i, e.into_inner()),
                    Err(TryLockError::WouldBlock) => {}
                }
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }

    /// A server of the module, reset; `None` when emulator tests are explicitly skipped.
    pub fn get(&'static self) -> Option<Moto> {
        let python = python()?;
        let (i, guard) = self.exclusive();
        let server = self.server(i, &python);
        let moto = Moto {
            port: server.port,
            python,
            _guard: Guard::Exclusive(guard),
        };
        moto.post("/moto-api/reset-auth", "inf");
        moto.post("/moto-api/reset", "");
        Some(moto)
    }

    /// The module's first server as `seed` left it, shared: the first caller resets and seeds it
    /// (alone), later callers of the same test binary get it as it is, several at once. Only for
    /// modules whose tests never write to it (the collector only reads) and never call [`get`]
    /// (which could take the first server and reset it), so a seeding that takes seconds is done
    /// once and the tests that read it do not queue.
    ///
    /// [`get`]: Emulator::get
    pub fn get_seeded<T: Clone>(
        &'static self,
        cell: &'static OnceLock<T>,
        seed: impl FnOnce(&Moto) -> T,
    ) -> Option<(Moto, T)> {
        let python = python()?;
        let port = self.server(0, &python).port;
        if cell.get().is_none() {
            let guard = self.locks[0].write().unwrap_or_else(|e| e.into_inner());
            let moto = Moto {
                port,
                python: python.clone(),
                _guard: Guard::Exclusive(guard),
            };
            if cell.get().is_none() {
                moto.post("/moto-api/reset-auth", "inf");
                moto.post("/moto-api/reset", "");
                let v = seed(&moto);
                let _ = cell.set(v);
            }
        }
        let guard = self.locks[0].read().unwrap_or_else(|e| e.into_inner());
        let value = cell.get().expect("seeded above").clone();
        Some((
            Moto {
                port,
                python,
                _guard: Guard::Shared(guard),
            },
            value,
        ))
    }
}

impl Moto {
    /// Runs a moto_scenarios.py command and returns what it printed.
    pub fn seed_output(&self, args: &[&str]) -> String {
        self.script(args)
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn post(&self, path: &str, body: &str) {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).expect("connect to moto");
        write!(
            s,
            "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut resp = String::new();
        s.read_to_string(&mut resp).unwrap();
        assert!(
            resp.starts_with("HTTP/1.1 200") || resp.starts_with("HTTP/1.0 200"),
            "{path}: {resp}"
        );
    }

    fn script(&self, args: &[&str]) -> String {
        let o = Command::new(&self.python)
            .arg(root().join("tests/support/moto_scenarios.py"))
            .env("CWL_AUDIT_ROOT_REFERENCE", super::cis_root())
            .arg(self.endpoint())
            .args(args)
            .output()
            .expect("run moto_scenarios.py");
        assert!(
            o.status.success(),
            "seeding {args:?} failed:\n{}",
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8_lossy(&o.stdout).into_owned()
    }

    /// Seeds the named scenarios of moto_scenarios.py.
    pub fn seed(&self, scenarios: &[&str]) {
        self.script(scenarios);
    }

    /// An IAM user allowed exactly `actions`; moto enforces IAM from now until the next reset.
    pub fn restricted_user(&self, actions: &[&str]) -> (String, String) {
        let out = self.script(&["restricted-user", &serde_json::to_string(actions).unwrap()]);
        let mut it = out.split_whitespace();
        (
            it.next().unwrap().to_string(),
            it.next().unwrap().to_string(),
        )
    }
}

/// The environment of a collection: test credentials, no files or instance metadata of this
/// machine, no region or endpoint from outside.
pub fn aws_env(cmd: &mut Command, key: &str, secret: &str) {
    cmd.env("AWS_ACCESS_KEY_ID", key)
        .env("AWS_SECRET_ACCESS_KEY", secret)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", "/nonexistent/cwl-audit-test/config")
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            "/nonexistent/cwl-audit-test/credentials",
        );
    for v in [
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_ENDPOINT_URL",
        "AWS_ROLE_ARN",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    ] {
        cmd.env_remove(v);
    }
}

/// `cwl-audit collect --out OUT --endpoint-url ENDPOINT ARGS...` with test credentials.
pub fn collect(endpoint: &str, out: &Path, args: &[&str]) -> Output {
    collect_as(endpoint, out, args, ("testing", "testing"))
}

pub fn collect_as(endpoint: &str, out: &Path, args: &[&str], keys: (&str, &str)) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cwl-audit"));
    cmd.arg("collect")
        .arg("--out")
        .arg(out)
        .arg("--endpoint-url")
        .arg(endpoint)
        .args(["--max-attempts", "2", "--retry-initial-backoff-ms", "10"])
        .args(args);
    aws_env(&mut cmd, keys.0, keys.1);
    cmd.output().expect("run cwl-audit collect")
}

// ---- a loopback proxy in front of moto ----

/// One HTTP request as the proxy read it.
pub struct Request {
    pub head: String,
    pub body: Vec<u8>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().skip(1).find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }

    /// The region of the SigV4 credential scope (`Credential=KEY/DATE/REGION/SERVICE/aws4_request`).
    pub fn signed_region(&self) -> Option<&str> {
        let auth = self.header("authorization")?;
        let scope = auth.split("Credential=").nth(1)?;
        scope.split('/').nth(2)
    }

    /// The operation: the JSON protocols' `X-Amz-Target` suffix or the query protocol's `Action=`.
    pub fn operation(&self) -> Option<String> {
        if let Some(t) = self.header("x-amz-target") {
            return t.rsplit('.').next().map(str::to_string);
        }
        let body = String::from_utf8_lossy(&self.body);
        body.split('&')
            .find_map(|kv| kv.strip_prefix("Action="))
            .map(str::to_string)
    }
}

/// An error response: JSON protocols (`x-amzn-errortype`) or the query protocol (XML), by the request.
pub fn error_response(req: &Request, status: u16, code: &str, message: &str) -> Vec<u8> {
    let (content_type, body) = if req.header("x-amz-target").is_some() {
        (
            "application/x-amz-json-1.1",
            format!("{{\"__type\":\"{code}\",\"message\":\"{message}\"}}"),
        )
    } else {
        (
            "text/xml",
            format!("<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>cwl-audit-test</RequestId></ErrorResponse>"),
        )
    };
    format!(
        "HTTP/1.1 {status} Error\r\nContent-Type: {content_type}\r\nx-amzn-errortype: {code}\r\nx-amzn-requestid: cwl-audit-test\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

pub type Rule = Arc<dyn Fn(&Request) -> Option<Vec<u8>> + Send + Sync>;

/// Answers a request with `rule`'s response when it gives one, else forwards it to moto.
pub fn proxy(upstream: u16, rule: Rule) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind the proxy");
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let rule = rule.clone();
            std::thread::spawn(move || {
                let _ = handle(stream, upstream, &rule);
            });
        }
    });
    format!("http://127.0.0.1:{port}")
}

fn read_head(r: &mut impl BufRead) -> std::io::Result<String> {
    let mut head = String::new();
    loop {
        let mut line = String::new();
        if r.read_line(&mut line)? == 0 || line == "\r\n" {
            return Ok(head);
        }
        head.push_str(&line);
    }
}

fn handle(stream: TcpStream, upstream: u16, rule: &Rule) -> std::io::Result<()> {
    stream.set_read_timeout(Some(std::time::Duration::from_secs(30)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut client = stream;
    let head = read_head(&mut reader)?;
    if head.is_empty() {
        return Ok(());
    }
    let len: usize = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse().ok())?
        })
        .unwrap_or(0);
    let mut body = vec![0; len];
    reader.read_exact(&mut body)?;
    let req = Request { head, body };
    if let Some(resp) = rule(&req) {
        client.write_all(&resp)?;
        return client.flush();
    }
    // One request per connection: ask moto to close, and tell the client so.
    let mut up = TcpStream::connect(("127.0.0.1", upstream))?;
    let forwarded: String = req
        .head
        .lines()
        .filter(|l| !l.to_ascii_lowercase().starts_with("connection:"))
        .map(|l| format!("{l}\r\n"))
        .collect();
    up.write_all(forwarded.as_bytes())?;
    up.write_all(b"Connection: close\r\n\r\n")?;
    up.write_all(&req.body)?;
    let mut upr = BufReader::new(up);
    let resp_head = read_head(&mut upr)?;
    let mut rest = Vec::new();
    upr.read_to_end(&mut rest)?;
    let resp_head: String = resp_head
        .lines()
        .filter(|l| !l.to_ascii_lowercase().starts_with("connection:"))
        .map(|l| format!("{l}\r\n"))
        .collect();
    client.write_all(resp_head.as_bytes())?;
    client.write_all(b"Connection: close\r\n\r\n")?;
    client.write_all(&rest)?;
    client.flush()
}
