use argon2::password_hash::rand_core::{OsRng, RngCore};
use sha2::{Digest, Sha256};

/// A fresh single-use secret for a link, and the digest that is stored in its place: the
/// database never holds a token that would work if it leaked.
pub fn new_token() -> (String, String) {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    let token = hex::encode(bytes);
    let digest = digest(&token);
    (token, digest)
}

pub fn digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A new API token: the secret, shown once; its public prefix; the digest that is stored.
pub struct NewApiSecret {
    pub secret: String,
    pub prefix: String,
    pub digest: String,
}

/// `sr_` + 8 characters: the public part of every API token, shown in lists and logs.
const API_PREFIX_LEN: usize = 11;
/// `_` + the workspace tag (8 hex) + 48 hex of randomness (192 bits).
const API_SECRET_LEN: usize = API_PREFIX_LEN + 1 + 8 + 48;

/// Mints an API token for `tenant`: `sr_<8 random>_<workspace tag><48 random hex>`. The
/// workspace tag lets a call tell "this is another workspace's token" (logged as a mismatch)
/// from "no such token" without looking outside its own workspace; it decides nothing.
pub fn new_api_token(tenant: domain::TenantId) -> NewApiSecret {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut prefix_bytes = [0u8; 8];
    OsRng.fill_bytes(&mut prefix_bytes);
    let prefix: String = std::iter::once("sr_".to_owned())
        .chain(
            prefix_bytes
                .iter()
                .map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]).to_string()),
        )
        .collect();
    let mut random = [0u8; 24];
    OsRng.fill_bytes(&mut random);
    let secret = format!("{prefix}_{}{}", api_token_tag(tenant), hex::encode(random));
    let digest = digest(&secret);
    NewApiSecret {
        secret,
        prefix,
        digest,
    }
}

/// The 8 hex characters that mark a workspace's tokens.
pub fn api_token_tag(tenant: domain::TenantId) -> String {
    hex::encode(&Sha256::digest(format!("stockroom api token\0{tenant}").as_bytes())[..4])
}

/// A bearer token's public prefix and workspace tag, when it has the shape of our tokens.
pub fn api_token_parts(token: &str) -> Option<(&str, &str)> {
    let well_formed = token.len() == API_SECRET_LEN
        && token.starts_with("sr_")
        && token.as_bytes()[API_PREFIX_LEN] == b'_'
        && token[3..API_PREFIX_LEN]
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        && token[API_PREFIX_LEN + 1..]
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    well_formed.then(|| {
        (
            &token[..API_PREFIX_LEN],
            &token[API_PREFIX_LEN + 1..API_PREFIX_LEN + 9],
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_unique_and_stored_only_as_digests() {
        let (a, a_digest) = new_token();
        let (b, _) = new_token();
        assert_ne!(a, b);
        assert_eq!(a.len(), 64);
        assert_ne!(a, a_digest);
        assert_eq!(digest(&a), a_digest);
    }

    #[test]
    fn api_tokens_carry_their_prefix_and_workspace_tag() {
        let tenant = domain::TenantId::from_uuid(uuid::Uuid::from_u128(42));
        let other = domain::TenantId::from_uuid(uuid::Uuid::from_u128(43));
        let token = new_api_token(tenant);
        assert_eq!(token.secret.len(), API_SECRET_LEN);
        assert!(token.secret.starts_with(&token.prefix));
        assert_eq!(token.digest, digest(&token.secret));
        let (prefix, tag) = api_token_parts(&token.secret).unwrap();
        assert_eq!(prefix, token.prefix);
        assert_eq!(tag, api_token_tag(tenant));
        assert_ne!(tag, api_token_tag(other));
        assert_ne!(new_api_token(tenant).secret, token.secret);
        for bad in [
            "",
            "sr_",
            "Bearer x",
            &token.secret[1..],
            &token.secret.to_uppercase(),
        ] {
            assert_eq!(api_token_parts(bad), None, "{bad}");
        }
        let mut tampered = token.secret.clone();
        tampered.push('0');
        assert_eq!(api_token_parts(&tampered), None);
    }
}
