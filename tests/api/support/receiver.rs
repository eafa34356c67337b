//! A real HTTP server for webhook tests: it records every request (method, path, headers,
//! body) and answers as scripted — 200, some 500s then 200, always 500, or never (hang).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode};
use tokio::net::TcpListener;

/// How the server answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Behaviour {
    Ok,
    /// 500 for the first n requests, then 200.
    FailFirst(usize),
    AlwaysFail,
    /// Never answers.
    Hang,
    /// 302 to `/elsewhere` on the same server.
    Redirect,
}

/// One request as received.
#[derive(Debug, Clone)]
pub struct Hit {
    pub method: Method,
    pub path: String,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Hit {
    pub fn header(&self, name: &str) -> String {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }
}

#[derive(Default)]
struct Inner {
    hits: Vec<Hit>,
    behaviour: Option<Behaviour>,
}

/// The server; it stops with the test's runtime.
#[derive(Clone)]
pub struct Receiver {
    pub url: String,
    inner: Arc<Mutex<Inner>>,
}

impl Receiver {
    pub async fn start(behaviour: Behaviour) -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let inner = Arc::new(Mutex::new(Inner {
            hits: Vec::new(),
            behaviour: Some(behaviour),
        }));
        let state = inner.clone();
        let app = axum::Router::new().fallback(
            move |method: Method, uri: axum::http::Uri, headers: HeaderMap, body: Bytes| {
                let state = state.clone();
                async move {
                    let behaviour = {
                        let mut s = state.lock().expect("lock");
                        s.hits.push(Hit {
                            method,
                            path: uri.path().to_owned(),
                            headers,
                            body,
                        });
                        let n = s.hits.len();
                        match s.behaviour.unwrap_or(Behaviour::Ok) {
                            Behaviour::FailFirst(k) if n > k => Behaviour::Ok,
                            b => b,
                        }
                    };
                    let status = match behaviour {
                        Behaviour::Ok => StatusCode::OK,
                        Behaviour::FailFirst(_) | Behaviour::AlwaysFail => {
                            StatusCode::INTERNAL_SERVER_ERROR
                        }
                        Behaviour::Hang => {
                            tokio::time::sleep(Duration::from_secs(3600)).await;
                            StatusCode::OK
                        }
                        Behaviour::Redirect => StatusCode::FOUND,
                    };
                    (status, [(axum::http::header::LOCATION, "/elsewhere")])
                }
            },
        );
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Receiver {
            url: format!("http://{addr}/hook"),
            inner,
        }
    }

    pub fn set(&self, behaviour: Behaviour) {
        self.inner.lock().expect("lock").behaviour = Some(behaviour);
    }

    pub fn hits(&self) -> Vec<Hit> {
        self.inner.lock().expect("lock").hits.clone()
    }

    /// The hits whose body's `type` is `kind`.
    pub fn of(&self, kind: &str) -> Vec<Hit> {
        self.hits()
            .into_iter()
            .filter(|h| h.json()["type"] == kind)
            .collect()
    }

    /// Waits until `n` hits of `kind` arrived (or `timeout`), and returns them.
    pub async fn wait_for(&self, kind: &str, n: usize, timeout: Duration) -> Vec<Hit> {
        let start = Instant::now();
        loop {
            let hits = self.of(kind);
            if hits.len() >= n || start.elapsed() > timeout {
                return hits;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}
