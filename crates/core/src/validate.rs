//! Input validation shared by every operation. Each check returns a [`CoreError`] with the field
//! name and a Chinese message; nothing is written before all checks of an operation pass.

use crate::error::{CoreError, ErrorCode, Result};

/// A short display text (names): trimmed, non-empty, at most `max` characters (not bytes: a
/// Chinese name of 10 characters is 30 bytes), and free of control characters.
pub fn text(field: &str, label: &str, value: &str, max: usize) -> Result<String> {
    let v = value.trim();
    if v.is_empty() {
        return Err(CoreError::new(ErrorCode::Required, format!("{label}不能为空")).field(field));
    }
    let n = v.chars().count();
    if n > max {
        return Err(CoreError::new(
            ErrorCode::TooLong,
            format!("{label}过长：最多 {max} 个字，实际 {n} 个字"),
        )
        .field(field)
        .param("max", max)
        .param("actual", n));
    }
    if v.chars().any(char::is_control) {
        return Err(
            CoreError::new(ErrorCode::InvalidFormat, format!("{label}含有控制字符")).field(field),
        );
    }
    Ok(v.to_owned())
}

/// Optional text: empty means "not given".
pub fn optional_text(field: &str, label: &str, value: &str, max: usize) -> Result<String> {
    if value.trim().is_empty() {
        Ok(String::new())
    } else {
        text(field, label, value, max)
    }
}

pub fn range_i64(field: &str, label: &str, value: i64, min: i64, max: i64) -> Result<i64> {
    if value < min || value > max {
        return Err(CoreError::new(
            ErrorCode::OutOfRange,
            format!("{label}应在 {min} 到 {max} 之间，实际为 {value}"),
        )
        .field(field)
        .param("min", min)
        .param("max", max));
    }
    Ok(value)
}

/// A business-category prefix: one or two capital Latin letters (A, B, … or AB), as printed
/// on tickets and announced by the voice.
pub fn prefix(value: &str) -> Result<String> {
    let v = value.trim().to_ascii_uppercase();
    if v.is_empty() {
        return Err(CoreError::new(ErrorCode::Required, "号码前缀不能为空").field("prefix"));
    }
    if v.len() > 2 || !v.chars().all(|c| c.is_ascii_uppercase()) {
        return Err(CoreError::new(
            ErrorCode::InvalidFormat,
            "号码前缀应为一到两个大写英文字母，如 A 或 AB",
        )
        .field("prefix"));
    }
    Ok(v)
}

/// A sign-in name: 3–32 characters of a–z, 0–9, `.`, `_`, `-` (typed on any keyboard, no IME).
pub fn login(value: &str) -> Result<String> {
    let v = value.trim().to_ascii_lowercase();
    if v.is_empty() {
        return Err(CoreError::new(ErrorCode::Required, "登录名不能为空").field("login"));
    }
    if v.len() > 32 {
        return Err(CoreError::new(ErrorCode::TooLong, "登录名最多 32 个字符")
            .field("login")
            .param("max", 32)
            .param("actual", v.len()));
    }
    if v.len() < 3
        || !v
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c))
    {
        return Err(CoreError::new(
            ErrorCode::InvalidFormat,
            "登录名应为 3–32 位小写字母、数字或 . _ -",
        )
        .field("login"));
    }
    Ok(v)
}

/// Password rules for hall staff accounts: at least 8 characters, with letters and digits,
/// at most 128. (Argon2id makes length cheap to store; the cap stops hashing abuse.)
pub fn password(field: &str, value: &str) -> Result<()> {
    let n = value.chars().count();
    let letters = value.chars().any(|c| c.is_alphabetic());
    let digits = value.chars().any(|c| c.is_ascii_digit());
    if !(8..=128).contains(&n) || !letters || !digits || value.chars().any(char::is_control) {
        return Err(CoreError::new(
            ErrorCode::WeakPassword,
            "密码至少 8 位，且须同时包含字母和数字",
        )
        .field(field));
    }
    Ok(())
}

/// A telephone number as printed on notices: digits with optional `-`, `+`, spaces, brackets;
/// 7–20 characters; at least 7 digits.
pub fn phone(field: &str, value: &str) -> Result<String> {
    let v = value.trim();
    if v.is_empty() {
        return Ok(String::new());
    }
    let digits = v.chars().filter(|c| c.is_ascii_digit()).count();
    let ok_chars = v.chars().all(|c| c.is_ascii_digit() || "-+() ".contains(c));
    if !ok_chars || digits < 7 || v.chars().count() > 20 {
        return Err(CoreError::new(
            ErrorCode::InvalidFormat,
            "电话号码格式不正确（如 0571-12345678 或 13800000000）",
        )
        .field(field));
    }
    Ok(v.to_owned())
}

/// An `HH:MM` wall-clock time (24-hour), returned as minutes since midnight.
pub fn hhmm(field: &str, value: &str) -> Result<u16> {
    let bad = || {
        CoreError::new(
            ErrorCode::InvalidFormat,
            format!("时间应为 HH:MM 格式，实际为“{value}”"),
        )
        .field(field)
    };
    let (h, m) = value.trim().split_once(':').ok_or_else(bad)?;
    if h.len() != 2 || m.len() != 2 {
        return Err(bad());
    }
    let h: u16 = h.parse().map_err(|_| bad())?;
    let m: u16 = m.parse().map_err(|_| bad())?;
    if h > 23 || m > 59 {
        return Err(bad());
    }
    Ok(h * 60 + m)
}

pub fn fmt_hhmm(minutes: u16) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

/// A record id as produced by [`crate::ids::new_id`]; anything else is certainly unknown.
pub fn id(field: &str, what: &str, value: &str) -> Result<String> {
    match uuid::Uuid::parse_str(value.trim()) {
        Ok(u) => Ok(u.to_string()),
        Err(_) => Err(CoreError::not_found(what, value).field(field)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_rules() {
        assert_eq!(
            text("name", "名称", "  不动产登记 ", 10).unwrap(),
            "不动产登记"
        );
        assert_eq!(
            text("name", "名称", "   ", 10).unwrap_err().code,
            ErrorCode::Required
        );
        let e = text("name", "名称", "一二三四五六七八九十一", 10).unwrap_err();
        assert_eq!(
            e.code,
            ErrorCode::TooLong,
            "11 Chinese characters exceed 10 even though the byte count is 33"
        );
        assert_eq!(e.params["max"], "10");
        assert_eq!(
            text("name", "名称", "a\u{7}b", 10).unwrap_err().code,
            ErrorCode::InvalidFormat
        );
    }

    #[test]
    fn prefix_rules() {
        assert_eq!(prefix("a").unwrap(), "A");
        assert_eq!(prefix("AB").unwrap(), "AB");
        for bad in ["ABC", "1", "甲", "A-"] {
            assert_eq!(
                prefix(bad).unwrap_err().code,
                ErrorCode::InvalidFormat,
                "{bad}"
            );
        }
        assert_eq!(prefix(" ").unwrap_err().code, ErrorCode::Required);
    }

    #[test]
    fn login_and_password_rules() {
        assert_eq!(login(" Zhang.Wei ").unwrap(), "zhang.wei");
        assert_eq!(login("ab").unwrap_err().code, ErrorCode::InvalidFormat);
        assert_eq!(login("张伟").unwrap_err().code, ErrorCode::InvalidFormat);
        assert!(password("p", "abcd1234").is_ok());
        for bad in ["short1", "onlyletters", "12345678", ""] {
            assert_eq!(
                password("p", bad).unwrap_err().code,
                ErrorCode::WeakPassword,
                "{bad}"
            );
        }
    }

    #[test]
    fn hhmm_rules() {
        assert_eq!(hhmm("t", "09:00").unwrap(), 540);
        assert_eq!(hhmm("t", "17:30").unwrap(), 1050);
        for bad in ["9:00", "24:00", "12:60", "noon", "12-30"] {
            assert!(hhmm("t", bad).is_err(), "{bad}");
        }
        assert_eq!(fmt_hhmm(1050), "17:30");
    }

    #[test]
    fn phone_rules() {
        assert_eq!(phone("p", "0571-87654321").unwrap(), "0571-87654321");
        assert_eq!(phone("p", "").unwrap(), "");
        assert!(phone("p", "12345").is_err());
        assert!(phone("p", "call me").is_err());
    }
}
