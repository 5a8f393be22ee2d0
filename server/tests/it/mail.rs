//! Mail leaves through lettre: over SMTP when `[mail] smtp_url` is set, otherwise into the
//! outbox, which a development page lists.

use crate::support::{eventually, TestApp};
use app::api::team::InviteMember;
use reqwest::header::HeaderMap;
use reqwest::StatusCode;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// A minimal SMTP server that accepts every message and hands each one's DATA to `sink`.
async fn smtp_sink() -> (u16, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let received = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = received.clone();
    tokio::spawn(async move {
        loop {
            let (socket, _) = listener.accept().await.unwrap();
            let sink = sink.clone();
            tokio::spawn(async move {
                let (read, mut write) = socket.into_split();
                let mut lines = BufReader::new(read).lines();
                write.write_all(b"220 sink.test ESMTP\r\n").await.unwrap();
                let mut data: Option<String> = None;
                while let Ok(Some(line)) = lines.next_line().await {
                    if let Some(body) = data.as_mut() {
                        if line == "." {
                            sink.lock().unwrap().push(data.take().unwrap());
                            write.write_all(b"250 queued\r\n").await.unwrap();
                        } else {
                            body.push_str(&line);
                            body.push('\n');
                        }
                        continue;
                    }
                    let verb = line
                        .split_whitespace()
                        .next()
                        .unwrap_or("")
                        .to_ascii_uppercase();
                    let reply: &[u8] = match verb.as_str() {
                        "EHLO" | "HELO" => b"250 sink.test\r\n",
                        "DATA" => {
                            data = Some(String::new());
                            b"354 go ahead\r\n"
                        }
                        "QUIT" => {
                            write.write_all(b"221 bye\r\n").await.unwrap();
                            break;
                        }
                        _ => b"250 ok\r\n",
                    };
                    write.write_all(reply).await.unwrap();
                }
            });
        }
    });
    (port, received)
}

#[tokio::test]
async fn invitations_go_out_over_smtp_when_it_is_configured() {
    let (port, received) = smtp_sink().await;
    let app = TestApp::spawn_with(|config| {
        config.mail.smtp_url = format!("smtp://127.0.0.1:{port}");
    })
    .await;
    let owner = app
        .register("alpha", "ann@alpha.test", "alpha-password-1")
        .await;
    let response = app
        .call::<InviteMember>(
            Some("alpha"),
            &[("email", "ivy@mail.test"), ("role", "MEMBER")],
            Some(&owner),
            HeaderMap::new(),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let message = eventually(|| received.lock().unwrap().first().cloned()).await;
    let (headers, body) = app::ssr::mail::readable(&message);
    assert!(
        headers
            .iter()
            .any(|(n, v)| n == "To" && v.contains("ivy@mail.test")),
        "{headers:?}"
    );
    assert!(
        body.contains(&format!("http://alpha.{}/invite/", app.base_domain)),
        "{body}"
    );
    assert!(app.sent_mail().is_empty(), "nothing went to the outbox");
}

#[tokio::test]
async fn the_development_outbox_page_lists_mail_only_when_enabled_and_only_on_the_public_site() {
    let app = TestApp::spawn_with(|config| config.mail.show_outbox = true).await;
    let owner = app
        .register("alpha", "ann@alpha.test", "alpha-password-1")
        .await;
    app.call::<InviteMember>(
        Some("alpha"),
        &[("email", "ivy@mail.test"), ("role", "MEMBER")],
        Some(&owner),
        HeaderMap::new(),
    )
    .await;
    let page = app.get(None, "/dev/outbox", None).await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("ivy@mail.test"), "{html}");
    assert!(
        html.contains(&format!(
            "<a href=\"http://alpha.{}/invite/",
            app.base_domain
        )),
        "links can be followed: {html}"
    );
    assert_eq!(
        app.get(Some("alpha"), "/dev/outbox", Some(&owner))
            .await
            .status(),
        StatusCode::NOT_FOUND,
        "never on a workspace's host"
    );

    let closed = TestApp::spawn().await;
    assert_eq!(
        closed.get(None, "/dev/outbox", None).await.status(),
        StatusCode::NOT_FOUND,
        "off unless turned on"
    );
}
