//! `Password`: the policy for new passwords.

/// A new password that satisfies the policy: 10 to 128 characters and not all of one class
/// (not only letters, only digits, ...). The plaintext never leaves this type except to be
/// hashed.
pub struct Password(String);

/// Fewest characters of a new password.
pub const MIN_CHARS: usize = 10;
/// Most characters of a new password.
pub const MAX_CHARS: usize = 128;

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

impl Password {
    /// Checks the policy.
    pub fn parse(input: &str) -> Result<Self, &'static str> {
        let chars = input.chars().count();
        if chars < MIN_CHARS {
            return Err("must be at least 10 characters");
        }
        if chars > MAX_CHARS {
            return Err("must be at most 128 characters");
        }
        let classes = [
            input.chars().any(|c| c.is_lowercase()),
            input.chars().any(|c| c.is_uppercase()),
            input.chars().any(|c| c.is_ascii_digit()),
            input.chars().any(|c| !c.is_alphanumeric()),
        ];
        if classes.iter().filter(|&&present| present).count() < 2 {
            return Err("must mix at least two of: lowercase, uppercase, digits, symbols");
        }
        Ok(Self(input.to_owned()))
    }

    /// The plaintext, for hashing.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::Password;

    #[test]
    fn policy() {
        assert!(Password::parse("correct horse 42").is_ok());
        assert!(Password::parse("Abcdefghij").is_ok());
        assert!(Password::parse("short1A").is_err());
        assert!(Password::parse("aaaaaaaaaaaa").is_err());
        assert!(Password::parse("123456789012").is_err());
        assert!(Password::parse(&"a1".repeat(70)).is_err());
    }

    #[test]
    fn debug_never_shows_the_password() {
        let p = Password::parse("correct horse 42").expect("valid");
        assert!(!format!("{p:?}").contains("horse"));
    }
}
