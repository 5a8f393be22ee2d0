//! The wire format of server functions' answers: JSON, read from text.
//!
//! Every type a page loads reaches the browser twice: in the page, as a resource's hydration
//! data, which Leptos reads with `serde_json::from_str`, and as the answer of a server function
//! called after hydration, which server_fn's own `JsonEncoding` reads with `from_slice`. Each
//! reader is a separate copy of every `Deserialize` implementation in the wasm bundle: two
//! copies of some hundred struct readers, a tenth of the bundle's code. Reading answers as text
//! too leaves one copy. The bytes on the wire are the same JSON.

use leptos::server_fn::codec::Post;
use leptos::server_fn::{Bytes, ContentType, Decodes, Encodes, Format, FormatType};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// `#[server(output = crate::codec::TextJson)]`: every server function's answer.
pub type TextJson = Post<TextJsonEncoding>;

pub struct TextJsonEncoding;

impl ContentType for TextJsonEncoding {
    const CONTENT_TYPE: &'static str = "application/json";
}

impl FormatType for TextJsonEncoding {
    const FORMAT_TYPE: Format = Format::Text;
}

impl<T: Serialize> Encodes<T> for TextJsonEncoding {
    type Error = serde_json::Error;

    fn encode(output: &T) -> Result<Bytes, Self::Error> {
        serde_json::to_vec(output).map(Bytes::from)
    }
}

impl<T: DeserializeOwned> Decodes<T> for TextJsonEncoding {
    type Error = serde_json::Error;

    fn decode(bytes: Bytes) -> Result<T, Self::Error> {
        // JSON is UTF-8; a body that is not is as malformed as one that does not parse.
        let text = std::str::from_utf8(&bytes).map_err(|_| {
            <serde_json::Error as serde::de::Error>::custom("the answer is not UTF-8 text")
        })?;
        serde_json::from_str(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::AppError;

    #[test]
    fn an_answer_reads_back_as_it_was_written() {
        let answer: Result<Vec<String>, AppError> = Ok(vec!["a \"quoted\" é".into()]);
        let bytes = <TextJsonEncoding as Encodes<_>>::encode(&answer).unwrap();
        let read: Result<Vec<String>, AppError> = TextJsonEncoding::decode(bytes).unwrap();
        assert_eq!(read, answer);
    }

    #[test]
    fn bytes_that_are_not_text_are_an_error_not_a_panic() {
        let read: Result<String, _> =
            <TextJsonEncoding as Decodes<String>>::decode(Bytes::from_static(b"\"\xff\xfe\""));
        assert!(read.is_err());
    }

    /// A server function left on server_fn's default output would bring the second reader of
    /// its types back into the bundle, silently: the page still works.
    #[test]
    fn every_server_function_answers_with_text_json() {
        fn visit(dir: &std::path::Path, found: &mut Vec<String>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    visit(&path, found);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    let text = std::fs::read_to_string(&path).unwrap();
                    for (n, line) in text.lines().enumerate() {
                        let line = line.trim();
                        if line.starts_with("#[server")
                            && !line.starts_with("#[server(default)]")
                            && line != "#[server(output = crate::codec::TextJson)]"
                        {
                            found.push(format!("{}:{}: {line}", path.display(), n + 1));
                        }
                    }
                }
            }
        }
        let mut found = Vec::new();
        visit(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
            &mut found,
        );
        assert!(found.is_empty(), "{found:#?}");
    }
}
