use std::fmt;

pub const MIN_PASSWORD_CHARS: usize = 10;
/// argon2 would hash a megabyte happily; we refuse it before it costs anything.
const MAX_PASSWORD_CHARS: usize = 256;

/// Passwords that appear at the top of every breach list. A short list catches most of the
/// damage; the length rule does the rest.
const COMMON: &[&str] = &[
    "1234567890",
    "12345678910",
    "0123456789",
    "1q2w3e4r5t",
    "1qaz2wsx3edc",
    "abcdefghij",
    "aaaaaaaaaa",
    "adminadmin",
    "administrator",
    "baseball123",
    "football123",
    "iloveyou12",
    "letmein123",
    "monkey12345",
    "password",
    "password1",
    "password12",
    "password123",
    "password1234",
    "passw0rd123",
    "princess123",
    "qwerty1234",
    "qwertyuiop",
    "qwertyuiop1",
    "starwars123",
    "sunshine123",
    "superman123",
    "trustno1234",
    "welcome123",
    "welcome1234",
    "zaq12wsxcde",
    "changeme123",
    "qazwsxedc123",
    "asdfghjkl1",
    "1111111111",
    "0000000000",
];

/// A password someone chose. It never leaves the server once received, never prints and
/// cannot be serialised at all, so no answer can carry one back to the browser.
#[derive(Clone)]
pub struct Password(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    #[error("Use at least {MIN_PASSWORD_CHARS} characters.")]
    TooShort,
    #[error("Use at most {MAX_PASSWORD_CHARS} characters.")]
    TooLong,
    #[error("This password is too common. Choose one that is harder to guess.")]
    TooCommon,
}

impl Password {
    /// A password being chosen: the policy applies.
    pub fn new_choice(input: &str) -> Result<Self, PasswordError> {
        let chars = input.chars().count();
        if chars < MIN_PASSWORD_CHARS {
            return Err(PasswordError::TooShort);
        }
        if chars > MAX_PASSWORD_CHARS {
            return Err(PasswordError::TooLong);
        }
        let lowered = input.to_lowercase();
        let one_repeated_char = lowered.chars().all(|c| lowered.starts_with(c));
        if COMMON.contains(&lowered.as_str()) || one_repeated_char {
            return Err(PasswordError::TooCommon);
        }
        Ok(Self(input.to_owned()))
    }

    /// A password typed to sign in: only checked against a hash, so no policy, but the size cap
    /// still protects the hasher.
    pub fn attempt(input: &str) -> Result<Self, PasswordError> {
        if input.chars().count() > MAX_PASSWORD_CHARS {
            return Err(PasswordError::TooLong);
        }
        Ok(Self(input.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enforces_the_minimum_length() {
        assert_eq!(
            Password::new_choice("short").unwrap_err(),
            PasswordError::TooShort
        );
        assert!(Password::new_choice("correct horse").is_ok());
    }

    #[test]
    fn refuses_common_and_repetitive_passwords() {
        assert_eq!(
            Password::new_choice("Password123").unwrap_err(),
            PasswordError::TooCommon
        );
        assert_eq!(
            Password::new_choice("zzzzzzzzzzzz").unwrap_err(),
            PasswordError::TooCommon
        );
    }

    #[test]
    fn sign_in_attempts_skip_the_policy_but_not_the_size_cap() {
        assert!(Password::attempt("x").is_ok());
        assert_eq!(
            Password::attempt(&"x".repeat(300)).unwrap_err(),
            PasswordError::TooLong
        );
    }

    #[test]
    fn never_prints_its_secret() {
        let password = Password::new_choice("s3cret-and-long").unwrap();
        assert!(!format!("{password:?}").contains("s3cret"));
    }
}
