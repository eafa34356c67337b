//! Shared test helpers: where the built components are, sample inputs, an in-process app,
//! and the real binary in a process of its own (`process`).

pub mod app;
pub mod client;
pub mod inputs;
// Each of the three test binaries uses its own part of the harness.
#[allow(dead_code)]
pub mod process;
pub mod receiver;
pub mod smtp;

use std::path::PathBuf;

/// The directory `scripts/build-components.sh` fills.
pub fn components_dir() -> PathBuf {
    if let Ok(dir) = std::env::var("CINEFLOW_COMPONENTS_DIR") {
        return PathBuf::from(dir);
    }
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"));
    target.join("components")
}

/// Bytes of a built component, e.g. `pricing.wasm` or `hostile/loop.wasm`.
pub fn component(relative: &str) -> Vec<u8> {
    let path = components_dir().join(relative);
    std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; run scripts/build-components.sh first",
            path.display()
        )
    })
}

/// A hostile (or the well-behaved) guest from `tests/guests/hostile`.
pub fn hostile(name: &str) -> Vec<u8> {
    component(&format!("hostile/{name}.wasm"))
}

/// A port of 127.0.0.1 that refuses connections for as long as this value lives, for
/// settings that must point at "nothing listens there". The socket is bound but never
/// listens: the kernel answers a connection with a reset, and no other process can take the
/// port meanwhile (a port found free and released could be taken by anyone).
pub struct ClosedPort {
    _socket: tokio::net::TcpSocket,
    port: u16,
}

impl ClosedPort {
    pub fn bind() -> ClosedPort {
        let socket = tokio::net::TcpSocket::new_v4().expect("a TCP socket");
        socket
            .bind(std::net::SocketAddr::from(([127, 0, 0, 1], 0)))
            .expect("bind a port of 127.0.0.1");
        let port = socket.local_addr().expect("bound address").port();
        ClosedPort {
            _socket: socket,
            port,
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }
}

/// A URL of the same server as `DATABASE_URL`, for database `name`.
pub fn database_url_for(name: &str) -> String {
    let base = std::env::var("DATABASE_URL").expect("DATABASE_URL must be set for these tests");
    let without_query = base.split('?').next().unwrap_or(&base);
    let (server, _) = without_query
        .rsplit_once('/')
        .expect("DATABASE_URL has a database path");
    format!("{server}/{name}")
}
