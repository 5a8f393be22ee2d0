use std::path::PathBuf;

use domain::Email;
use lettre::message::{header::ContentType, Mailbox};
use lettre::{AsyncFileTransport, AsyncTransport, Message, Tokio1Executor};

/// Sends email. Today every message lands in the outbox directory as an `.eml` file (the
/// development and test transport); an SMTP transport plugs in here without touching callers.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncFileTransport<Tokio1Executor>,
    from: Mailbox,
    outbox: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("invalid address: {0}")]
    Address(#[from] lettre::address::AddressError),
    #[error("cannot build message: {0}")]
    Build(#[from] lettre::error::Error),
    #[error("cannot deliver: {0}")]
    Deliver(#[from] lettre::transport::file::Error),
    #[error("cannot use outbox {0}: {1}")]
    Outbox(String, std::io::Error),
}

impl Mailer {
    pub fn outbox(dir: impl Into<PathBuf>, from: &str) -> Result<Self, MailError> {
        let outbox = dir.into();
        std::fs::create_dir_all(&outbox)
            .map_err(|e| MailError::Outbox(outbox.display().to_string(), e))?;
        Ok(Self {
            transport: AsyncFileTransport::new(&outbox),
            from: from.parse()?,
            outbox,
        })
    }

    pub fn outbox_dir(&self) -> &std::path::Path {
        &self.outbox
    }

    pub async fn send(&self, to: &Email, subject: &str, body: String) -> Result<(), MailError> {
        let message = Message::builder()
            .from(self.from.clone())
            .to(to.as_str().parse()?)
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            .body(body)?;
        self.transport.send(message).await?;
        Ok(())
    }
}
