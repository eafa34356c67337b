//! The client's URL building, server parsing and answer handling, without a network.
use super::*;

fn client(server: &str) -> Client {
    let base = parse_server(server).expect("valid");
    Client::new(base, None, None, Duration::from_secs(5)).expect("client")
}

#[test]
fn servers_are_normalised_and_checked() {
    let url = parse_server("http://127.0.0.1:8080/").expect("valid");
    assert_eq!(server_text(&url), "http://127.0.0.1:8080");
    let proxied = parse_server("https://example.com/cineflow/").expect("valid");
    assert_eq!(server_text(&proxied), "https://example.com/cineflow");
    for bad in [
        "ftp://x",
        "not a url",
        "http://x/?a=1",
        "http://u:p@x",
        "file:///tmp",
    ] {
        let err = parse_server(bad).expect_err(bad);
        assert_eq!(err.exit_code(), 2, "{bad}");
    }
}

#[test]
fn paths_are_built_from_encoded_segments() {
    let c = client("http://127.0.0.1:8080");
    assert_eq!(
        c.url(
            &["chains", "abc", "components"],
            &[("hook", Some("pricing".into()))]
        )
        .as_str(),
        "http://127.0.0.1:8080/api/v1/chains/abc/components?hook=pricing"
    );
    let sneaky = c.url(&["chains", "c", "components", "../../users"], &[]);
    assert_eq!(sneaky.path(), "/api/v1/chains/c/components/..%2F..%2Fusers");
    let q = c.url(
        &["runs"],
        &[
            ("hook", None),
            ("from", Some("2026-01-01T00:00:00+05:30".into())),
        ],
    );
    assert_eq!(q.query(), Some("from=2026-01-01T00%3A00%3A00%2B05%3A30"));
    let proxied = client("https://example.com/cineflow/");
    assert_eq!(
        proxied.url(&["hooks"], &[]).as_str(),
        "https://example.com/cineflow/api/v1/hooks"
    );
}

#[test]
fn debug_never_shows_the_token() {
    let base = parse_server("http://127.0.0.1:1").expect("valid");
    let c = Client::new(base, Some("sekrit".into()), None, Duration::from_secs(1)).expect("client");
    assert!(!format!("{c:?}").contains("sekrit"));
}

#[test]
fn a_ca_cert_file_must_hold_certificates() {
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = dir.path().join("missing.pem");
    let err = tls_config(Some(&missing)).expect_err("missing file");
    assert!(err.render().contains("--ca-cert"), "{}", err.render());
    let empty = dir.path().join("empty.pem");
    std::fs::write(&empty, "not a certificate\n").expect("writes");
    let err = tls_config(Some(&empty)).expect_err("no certificate");
    assert!(
        err.render().contains("no PEM certificate"),
        "{}",
        err.render()
    );
    assert!(tls_config(None).is_ok());
}

#[tokio::test]
async fn a_closed_port_is_a_connection_error() {
    // Bound but not listening: connections are refused, and no one else can take it.
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket
        .bind(std::net::SocketAddr::from(([127, 0, 0, 1], 0)))
        .expect("binds");
    let port = socket.local_addr().expect("addr").port();
    let err = client(&format!("http://127.0.0.1:{port}"))
        .get(&["hooks"], &[])
        .await
        .expect_err("nothing listens");
    assert!(matches!(err, RemoteError::Connection(_)), "{err:?}");
    assert_eq!(err.exit_code(), 2);
}
