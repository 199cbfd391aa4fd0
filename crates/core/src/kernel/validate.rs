//! Input validation shared by every operation. Each check returns a [`CoreError`] with the field
//! name and a Chinese message; nothing is written before all checks of an operation pass.

use crate::kernel::error::{CoreError, ErrorCode, Result};

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

/// A record id as produced by [`crate::kernel::ids::new_id`]; anything else is certainly unknown.
pub fn id(field: &str, what: &str, value: &str) -> Result<String> {
    match uuid::Uuid::parse_str(value.trim()) {
        Ok(u) => Ok(u.to_string()),
        Err(_) => Err(CoreError::not_found(what, value).field(field)),
    }
}

/// The 31 characters of a unified social credit code (GB 32100-2015): digits and capitals
/// without I, O, S, V, Z.
const USCC_CHARS: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";

/// The check character of a unified social credit code's first 17 characters (GB 32100-2015
/// §4: weights 3^i mod 31, check = 31 − Σ mod 31, 31 → 0). `None` if a character is not in the
/// code's alphabet.
pub fn gb32100_check(first17: &str) -> Option<char> {
    const W: [u32; 17] = [
        1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
    ];
    let mut sum = 0;
    for (c, w) in first17.chars().zip(W) {
        sum += USCC_CHARS.find(c)? as u32 * w;
    }
    let check = (31 - sum % 31) % 31;
    USCC_CHARS.chars().nth(check as usize)
}

/// The organisation code inside a credit code (characters 9–17, GB 11714-1997): 8 characters
/// and a check character (weights 3 7 9 10 5 8 4 2, check = 11 − Σ mod 11; 10 → X, 11 → 0).
fn gb11714_ok(code9: &str) -> bool {
    const W: [u32; 8] = [3, 7, 9, 10, 5, 8, 4, 2];
    let chars: Vec<char> = code9.chars().collect();
    if chars.len() != 9 {
        return false;
    }
    let mut sum = 0;
    for (c, w) in chars[..8].iter().zip(W) {
        let v = match c {
            '0'..='9' => *c as u32 - '0' as u32,
            'A'..='Z' => *c as u32 - 'A' as u32 + 10,
            _ => return false,
        };
        sum += v * w;
    }
    let want = match 11 - sum % 11 {
        10 => 'X',
        11 => '0',
        n => char::from_digit(n, 10).unwrap_or('?'),
    };
    chars[8] == want
}

/// A unified social credit code (统一社会信用代码, GB 32100-2015) of a legal person or other
/// organisation: 18 characters from its alphabet, a known registration authority and category,
/// a six-digit division code, an organisation code whose own check holds, and the check
/// character. Returns it normalised (upper case, trimmed).
pub fn credit_code(field: &str, value: &str) -> Result<String> {
    let v = value.trim().to_ascii_uppercase();
    let bad = |why: &str| {
        CoreError::new(
            ErrorCode::InvalidCreditCode,
            format!("统一社会信用代码无效：{why}"),
        )
        .field(field)
    };
    if v.chars().count() != 18 {
        return Err(bad("应为 18 位"));
    }
    if let Some(c) = v.chars().find(|c| !USCC_CHARS.contains(*c)) {
        return Err(bad(&format!(
            "含有不允许的字符“{c}”（不使用 I、O、S、V、Z）"
        )));
    }
    let b: Vec<char> = v.chars().collect();
    // Registration authority (登记管理部门) and the categories it registers (机构类别), GB 32100
    // appendix A.
    let categories = match b[0] {
        '1' => "1239",   // 机构编制：机关、事业单位、群众团体、其他
        '2' => "19",     // 外交
        '3' => "123459", // 司法行政：律所、公证处、基层法律服务所、司法鉴定、仲裁委、其他
        '4' => "19",     // 文化
        '5' => "1239",   // 民政：社会团体、民办非企业单位、基金会、其他
        '6' => "129",    // 旅游
        '7' => "129",    // 宗教
        '8' => "19",     // 工会
        '9' => "123",    // 市场监督管理：企业、个体工商户、农民专业合作社
        'A' => "19",     // 中央军委改革和编制办公室
        'N' => "1239",   // 农业：组、村、乡镇级集体经济组织、其他
        'Y' => "1",      // 其他
        _ => return Err(bad("登记管理部门代码不存在")),
    };
    if !categories.contains(b[1]) {
        return Err(bad("机构类别代码与登记管理部门不符"));
    }
    if !b[2..8].iter().all(char::is_ascii_digit) {
        return Err(bad("第 3–8 位应为行政区划代码"));
    }
    let org: String = b[8..17].iter().collect();
    if !gb11714_ok(&org) {
        return Err(bad("组织机构代码（第 9–17 位）校验不符"));
    }
    let first17: String = b[..17].iter().collect();
    if gb32100_check(&first17) != Some(b[17]) {
        return Err(bad("校验码不符"));
    }
    Ok(v)
}

/// A resident ID number (居民身份证号码, GB 11643-1999): 17 digits and a check character. The
/// check character is ISO 7064 MOD 11-2 over the first 17 digits (`X` stands for 10), and
/// digits 7–14 must be a real date of birth. Returns it normalised (upper-case `X`).
pub fn resident_id(field: &str, value: &str) -> Result<String> {
    let v = value.trim().to_ascii_uppercase();
    let bad = |why: &str| {
        CoreError::new(ErrorCode::InvalidIdNumber, format!("身份证号码无效：{why}")).field(field)
    };
    let chars: Vec<char> = v.chars().collect();
    if chars.len() != 18 {
        return Err(bad("应为 18 位"));
    }
    if !chars[..17].iter().all(char::is_ascii_digit)
        || !(chars[17].is_ascii_digit() || chars[17] == 'X')
    {
        return Err(bad("前 17 位须为数字，末位为数字或 X"));
    }
    let birth = &v[6..14];
    let date_ok = jiff::civil::Date::strptime("%Y%m%d", birth).is_ok_and(|d| d.year() >= 1900);
    if !date_ok {
        return Err(bad("出生日期不存在"));
    }
    if gb11643_check(&v[..17]) != chars[17] {
        return Err(bad("校验位不符"));
    }
    Ok(v)
}

/// The GB 11643 check character for 17 digits: weights 2^(17-i) mod 11, then (12 - sum mod 11)
/// mod 11, with 10 written `X`.
pub fn gb11643_check(first17: &str) -> char {
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = first17
        .chars()
        .zip(W)
        .map(|(c, w)| c.to_digit(10).unwrap_or(0) * w)
        .sum();
    match (12 - sum % 11) % 11 {
        10 => 'X',
        d => char::from_digit(d, 10).unwrap_or('0'),
    }
}

/// A resident ID as public and semi-public surfaces show it: the first 6 and last 4 kept
/// (`330106********0019`).
pub fn mask_id(id: &str) -> String {
    let chars: Vec<char> = id.chars().collect();
    if chars.len() <= 10 {
        return "*".repeat(chars.len());
    }
    let mut out: String = chars[..6].iter().collect();
    out.push_str(&"*".repeat(chars.len() - 10));
    out.extend(&chars[chars.len() - 4..]);
    out
}

/// A phone number as screens show it: the last four digits and, for a mobile, the first three
/// (13800138000 → 138****8000; 0571-87654321 → ****4321).
pub fn mask_phone(phone: &str) -> String {
    let digits: Vec<char> = phone.chars().filter(char::is_ascii_digit).collect();
    let n = digits.len();
    if n <= 4 {
        return "*".repeat(n);
    }
    let tail: String = digits[n - 4..].iter().collect();
    if n == 11 && digits[0] == '1' {
        let head: String = digits[..3].iter().collect();
        format!("{head}****{tail}")
    } else {
        format!("****{tail}")
    }
}

/// A person's name as the display and waiting lists show it: the first character kept
/// (张三 → 张*, 欧阳娜娜 → 欧***).
pub fn mask_name(name: &str) -> String {
    let mut chars = name.trim().chars();
    match chars.next() {
        None => String::new(),
        Some(first) => {
            let mut out = first.to_string();
            out.push_str(&"*".repeat(chars.count().max(1)));
            out
        }
    }
}

/// A CUPS queue, optionally on another print server: `QUEUE` or `QUEUE@HOST:PORT` (the hall's
/// print server in hall mode; a private test server).
pub fn cups_queue(q: &str) -> bool {
    let (queue, server) = match q.split_once('@') {
        Some((queue, server)) => (queue, Some(server)),
        None => (q, None),
    };
    let name_ok = !queue.is_empty()
        && queue
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    let server_ok = server.is_none_or(|s| {
        s.rsplit_once(':').is_some_and(|(h, p)| {
            !h.is_empty()
                && h.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
                && p.parse::<u16>().is_ok()
        })
    });
    name_ok && server_ok
}

/// An applicant as a window takes them down: name, resident ID (GB 11643), phone, and the queue
/// ticket being served (optional). Returns them normalised, or the first field at fault.
/// An applicant's identity document number: a resident ID (a natural person) or a unified
/// social credit code (a legal person or organisation, 法人及其他组织). A value with letters
/// before its last character is judged as a credit code, anything else as an ID number, so the
/// error names the check that failed.
pub fn applicant_id(field: &str, value: &str) -> Result<String> {
    match resident_id(field, value) {
        Ok(v) => Ok(v),
        Err(person) => {
            let v = value.trim().to_ascii_uppercase();
            let org_like = v.chars().take(17).any(|c| c.is_ascii_alphabetic());
            match credit_code(field, &v) {
                Ok(code) => Ok(code),
                Err(org) if org_like => Err(org),
                Err(_) => Err(person),
            }
        }
    }
}

pub fn applicant(
    name: &str,
    id_number: &str,
    phone_number: &str,
    ticket_id: Option<&str>,
) -> Result<(String, String, String, Option<String>)> {
    Ok((
        text("applicant_name", "申请人姓名", name, 60)?,
        applicant_id("applicant_id_number", id_number)?,
        phone("applicant_phone", phone_number)?,
        match ticket_id.map(str::trim).filter(|t| !t.is_empty()) {
            Some(t) => Some(id("ticket_id", "号票", t)?),
            None => None,
        },
    ))
}

/// One problem in an import file (a catalog workbook, a staff roster): where, and why. Every
/// importer reports all of them at once and imports nothing from a bad file.
#[derive(
    Debug,
    Clone,
    PartialEq,
    Eq,
    serde::Serialize,
    serde::Deserialize,
    ts_rs::TS,
    schemars::JsonSchema,
)]
pub struct RowError {
    pub sheet: String,
    /// 1-based, as a spreadsheet shows it (the header is row 1); JSON: the item's position.
    pub row: u32,
    pub field: String,
    pub reason: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_keep_only_what_identifies_a_record_not_a_person() {
        assert_eq!(mask_phone("13800138000"), "138****8000");
        assert_eq!(mask_phone("0571-87654321"), "****4321");
        assert_eq!(mask_phone("123"), "***");
        assert_eq!(mask_id("11010519491231002X"), "110105********002X");
        assert_eq!(mask_name("欧阳娜娜"), "欧***");
    }

    #[test]
    fn unified_social_credit_codes() {
        // Published codes of real organisations (their check characters hold).
        for ok in [
            "91350100M000100Y43",
            "91110000600037341L",
            "12100000400000624D",
            "91440300708461136T",
        ] {
            assert_eq!(credit_code("c", ok).unwrap(), ok);
            assert_eq!(
                credit_code("c", &ok.to_lowercase()).unwrap(),
                ok,
                "normalised"
            );
            assert_eq!(
                applicant_id("c", ok).unwrap(),
                ok,
                "an organisation applies"
            );
        }
        for (bad, why) in [
            ("91350100M000100Y4", "应为 18 位"),
            ("91350100M000100Y44", "校验码不符"),
            ("91350100M000100YI3", "不允许的字符"),
            ("B1350100M000100Y43", "登记管理部门"),
            ("98350100M000100Y43", "机构类别"),
            ("9135A100M000100Y43", "行政区划"),
            ("91350100M000101Y43", "组织机构代码"),
        ] {
            let e = credit_code("org", bad).unwrap_err();
            assert_eq!(
                (e.code, e.field.as_deref()),
                (ErrorCode::InvalidCreditCode, Some("org")),
                "{bad}"
            );
            assert!(e.message.contains(why), "{bad}: {}", e.message);
        }
        // A person's number stays a person's: its error is the ID number's.
        assert_eq!(
            applicant_id("a", "11010519491231002X").unwrap(),
            "11010519491231002X"
        );
        assert_eq!(
            applicant_id("a", "110105194912310021").unwrap_err().code,
            ErrorCode::InvalidIdNumber
        );
        assert_eq!(
            applicant_id("a", "91350100M000100Y44").unwrap_err().code,
            ErrorCode::InvalidCreditCode
        );
    }

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

    #[test]
    fn resident_id_rules() {
        // Check digits computed by hand for the GB 11643 weights.
        assert_eq!(gb11643_check("11010519491231002"), 'X');
        assert_eq!(
            resident_id("id", "11010519491231002x").unwrap(),
            "11010519491231002X"
        );
        assert_eq!(gb11643_check("33010619900101001"), '8');
        assert!(resident_id("id", "330106199001010018").is_ok());
        for bad in [
            "330106199001010019", // wrong check digit
            "33010619900101001",  // 17 characters
            "33010619901301001X", // month 13
            "3301061990010100A8", // letter inside
            "",
        ] {
            let e = resident_id("id", bad).unwrap_err();
            assert_eq!(e.code, ErrorCode::InvalidIdNumber, "{bad}");
            assert_eq!(e.field.as_deref(), Some("id"));
        }
        assert_eq!(mask_id("330106199001010019"), "330106********0019");
        assert_eq!(mask_name("张三"), "张*");
        assert_eq!(mask_name("欧阳娜娜"), "欧***");
        assert_eq!(mask_name("李"), "李*");
    }
}
