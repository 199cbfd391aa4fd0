//! The desktop's command line: which window to open, full screen or not, which database. An
//! unknown flag is an error (a typo must not open the wrong window on the wrong database).

use std::path::PathBuf;

use clap::{Parser, ValueEnum};

/// The windows OneTrip opens by flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Start {
    /// 窗口服务台: the clerk's console.
    Counter,
    /// 叫号屏: the public display.
    Display,
    /// 取号机: the ticket kiosk.
    Kiosk,
    /// 大厅管理: supervisors and the hall's IT person.
    Admin,
}

impl Start {
    pub fn label(self) -> &'static str {
        match self {
            Start::Counter => "counter",
            Start::Display => "display",
            Start::Kiosk => "kiosk",
            Start::Admin => "admin",
        }
    }
}

#[derive(Debug, Parser)]
#[command(
    name = "onetrip-desk",
    version,
    about = "一次办 OneTrip：行政审批窗口桌面程序"
)]
pub struct Args {
    /// Which window to open first.
    #[arg(long, value_enum, default_value = "counter")]
    pub window: Start,
    /// Open it full screen (a kiosk, a display on a television).
    #[arg(long)]
    pub fullscreen: bool,
    /// The hall database (else `ONETRIP_DB`, else the platform data directory).
    #[arg(long, env = "ONETRIP_DB")]
    pub db: Option<PathBuf>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_are_parsed_and_unknown_ones_refused() {
        let a =
            Args::try_parse_from(["onetrip-desk", "--window", "display", "--fullscreen"]).unwrap();
        assert_eq!(a.window, Start::Display);
        assert!(a.fullscreen);
        let a = Args::try_parse_from(["onetrip-desk", "--window=kiosk", "--db", "/tmp/h.sqlite"])
            .unwrap();
        assert_eq!(a.window, Start::Kiosk);
        assert_eq!(a.db.as_deref(), Some(std::path::Path::new("/tmp/h.sqlite")));
        assert!(Args::try_parse_from(["onetrip-desk", "--windw", "kiosk"]).is_err());
        assert!(Args::try_parse_from(["onetrip-desk", "--window", "lobby"]).is_err());
    }
}
