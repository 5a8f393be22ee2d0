//! The real binary, stopped with SIGTERM while a request is still arriving: that request is
//! answered, new connections are refused, and the process exits 0.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[tokio::test]
async fn sigterm_lets_in_flight_requests_finish_and_exits_cleanly() {
    let database = db::testing::fresh_database().await;
    let port = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().port()
    };
    let outbox = std::env::temp_dir().join(format!("stockroom-shutdown-{port}"));
    let mut child = Command::new(env!("CARGO_BIN_EXE_server"))
        .arg("serve")
        .env("STOCKROOM_CONFIG", "/nonexistent/Leptos.toml")
        .env("STOCKROOM_SERVER_LISTEN", format!("127.0.0.1:{port}"))
        .env("STOCKROOM_SERVER_BASE_DOMAIN", format!("localhost:{port}"))
        .env("STOCKROOM_DATABASE_URL", database.app_url())
        .env("STOCKROOM_MAIL_OUTBOX_DIR", &outbox)
        .env("STOCKROOM_PASSWORDS_MEMORY_KIB", "1024")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();

    let started = Instant::now();
    let mut stream = loop {
        match TcpStream::connect(("127.0.0.1", port)).await {
            Ok(stream) => break stream,
            Err(_) if started.elapsed() < Duration::from_secs(30) => {
                tokio::time::sleep(Duration::from_millis(100)).await
            }
            Err(err) => panic!("server never listened: {err}"),
        }
    };

    // Half a request: headers and part of the body.
    let path = <app::api::CheckSlug as leptos::server_fn::ServerFn>::PATH;
    let body = "slug=acme-shop";
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: localhost:{port}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(&body.as_bytes()[..6]).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    tokio::time::sleep(Duration::from_millis(300)).await;

    // New connections are refused while the old one is still being served.
    assert!(
        TcpStream::connect(("127.0.0.1", port)).await.is_err(),
        "the listener closed on SIGTERM"
    );

    stream.write_all(&body.as_bytes()[6..]).await.unwrap();
    let mut response = String::new();
    tokio::time::timeout(
        Duration::from_secs(10),
        stream.read_to_string(&mut response),
    )
    .await
    .unwrap()
    .unwrap();
    assert!(
        response.starts_with("HTTP/1.1 200"),
        "the in-flight request was answered: {response}"
    );
    assert!(response.contains("Available"), "{response}");

    let exit = tokio::task::spawn_blocking(move || child.wait().unwrap())
        .await
        .unwrap();
    assert!(exit.success(), "exit status {exit:?}");
    std::fs::remove_dir_all(outbox).ok();
}
