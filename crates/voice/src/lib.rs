//! Call announcements (语音叫号): "请A001号到3号窗口办理", in Mandarin, offline.
//!
//! Contract:
//! - A phrase is a sequence of clip names ([`phrase`]): 请, the prefix letters, each digit of
//!   the number, 号, 到, the window number read as a Chinese numeral, 号, 窗口, 办理.
//! - Clips are 16-bit PCM WAV files, one per name ([`CLIP_NAMES`]). The default set is built
//!   into the binary (synthesised by espeak-ng, `clips/generate.sh`); a hall overrides any clip
//!   by putting a WAV of the same name in its clip directory ([`ClipSet::load`]). All clips of a
//!   set must share one sample rate and channel count, checked at load.
//! - An announcement is the phrase `times` times, clips concatenated with short gaps, rendered
//!   into one buffer and played through rodio ([`render`], [`Announcer`]). The announcer plays
//!   one announcement at a time, in order, never overlapping; [`write_wav`] renders the same
//!   audio to a file so tests can check it without a sound card.

use std::collections::BTreeMap;
use std::io::Cursor;
use std::num::NonZero;
use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

use rodio::Source;
use rodio::buffer::SamplesBuffer;

#[derive(Debug, thiserror::Error)]
pub enum VoiceError {
    #[error("语音片段 {name} 无法解码：{why}")]
    BadClip { name: String, why: String },
    #[error("语音片段 {name} 的采样格式（{rate} Hz，{channels} 声道）与其他片段不一致")]
    MixedFormat {
        name: String,
        rate: u32,
        channels: u16,
    },
    #[error("缺少语音片段 {0}")]
    MissingClip(String),
    #[error("号码 {0} 无法播报：只能含字母和数字")]
    Unspeakable(String),
    #[error("写入语音文件失败：{0}")]
    Write(String),
    #[error("无法打开音频设备：{0}")]
    NoDevice(String),
}

/// The clip names, listed once: the macro makes [`CLIP_NAMES`] and embeds each default clip.
macro_rules! clips {
    ($($name:literal),* $(,)?) => {
        /// Every clip a phrase may use.
        pub const CLIP_NAMES: &[&str] = &[$($name),*];

        /// The built-in clip set.
        const DEFAULT_CLIPS: &[(&str, &[u8])] =
            &[$(($name, include_bytes!(concat!("../clips/default/", $name, ".wav")) as &[u8])),*];
    };
}

clips!(
    "qing",
    "hao",
    "dao",
    "chuangkou",
    "banli",
    "0",
    "1",
    "2",
    "3",
    "4",
    "5",
    "6",
    "7",
    "8",
    "9",
    "shi",
    "bai",
    "a",
    "b",
    "c",
    "d",
    "e",
    "f",
    "g",
    "h",
    "i",
    "j",
    "k",
    "l",
    "m",
    "n",
    "o",
    "p",
    "q",
    "r",
    "s",
    "t",
    "u",
    "v",
    "w",
    "x",
    "y",
    "z"
);

/// A window number as a Chinese numeral, in clip names: 3 → 三, 12 → 十二, 20 → 二十,
/// 105 → 一百零五, 110 → 一百一十.
pub fn numeral(n: u32) -> Vec<String> {
    let d = |x: u32| x.to_string();
    match n {
        0..=9 => vec![d(n)],
        10..=19 => {
            let mut v = vec!["shi".to_owned()];
            if !n.is_multiple_of(10) {
                v.push(d(n % 10));
            }
            v
        }
        20..=99 => {
            let mut v = vec![d(n / 10), "shi".to_owned()];
            if !n.is_multiple_of(10) {
                v.push(d(n % 10));
            }
            v
        }
        _ => {
            let mut v = vec![d((n / 100) % 10), "bai".to_owned()];
            let rest = n % 100;
            if rest == 0 {
                // 一百, 二百: nothing follows.
            } else if rest < 10 {
                v.push("0".to_owned());
                v.push(d(rest));
            } else {
                v.push(d(rest / 10));
                v.push("shi".to_owned());
                if !rest.is_multiple_of(10) {
                    v.push(d(rest % 10));
                }
            }
            v
        }
    }
}

/// The clips of "请{number}号到{window}号窗口办理". Ticket digits are read one by one (A001 →
/// A 零 零 一), the window as a numeral.
pub fn phrase(number: &str, window: u32) -> Result<Vec<String>, VoiceError> {
    if number.is_empty() || !number.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(VoiceError::Unspeakable(number.to_owned()));
    }
    let mut v = vec!["qing".to_owned()];
    v.extend(number.chars().map(|c| c.to_ascii_lowercase().to_string()));
    v.extend(["hao", "dao"].map(str::to_owned));
    v.extend(numeral(window));
    v.extend(["hao", "chuangkou", "banli"].map(str::to_owned));
    Ok(v)
}

/// Decoded clips sharing one format.
#[derive(Debug, Clone)]
pub struct ClipSet {
    rate: NonZero<u32>,
    channels: NonZero<u16>,
    clips: BTreeMap<String, Vec<f32>>,
}

impl ClipSet {
    /// The built-in set.
    pub fn builtin() -> Result<ClipSet, VoiceError> {
        Self::load(None)
    }

    /// The built-in set, with every `NAME.wav` found in `dir` replacing its clip.
    pub fn load(dir: Option<&Path>) -> Result<ClipSet, VoiceError> {
        let mut raw: BTreeMap<String, Vec<u8>> = DEFAULT_CLIPS
            .iter()
            .map(|(n, b)| ((*n).to_owned(), b.to_vec()))
            .collect();
        if let Some(dir) = dir {
            for name in CLIP_NAMES {
                let p = dir.join(format!("{name}.wav"));
                if let Ok(bytes) = std::fs::read(&p) {
                    raw.insert((*name).to_owned(), bytes);
                }
            }
        }
        let mut format: Option<(NonZero<u32>, NonZero<u16>)> = None;
        let mut clips = BTreeMap::new();
        for (name, bytes) in raw {
            let dec =
                rodio::Decoder::new_wav(Cursor::new(bytes)).map_err(|e| VoiceError::BadClip {
                    name: name.clone(),
                    why: e.to_string(),
                })?;
            let (rate, channels) = (dec.sample_rate(), dec.channels());
            match format {
                None => format = Some((rate, channels)),
                Some(f) if f == (rate, channels) => {}
                Some(_) => {
                    return Err(VoiceError::MixedFormat {
                        name,
                        rate: rate.get(),
                        channels: channels.get(),
                    });
                }
            }
            clips.insert(name, dec.collect());
        }
        let (rate, channels) = format.ok_or_else(|| VoiceError::MissingClip("qing".into()))?;
        Ok(ClipSet {
            rate,
            channels,
            clips,
        })
    }

    pub fn sample_rate(&self) -> u32 {
        self.rate.get()
    }

    /// A clip's length.
    pub fn duration(&self, name: &str) -> Option<Duration> {
        self.clips
            .get(name)
            .map(|s| self.samples_to_duration(s.len()))
    }

    fn samples_to_duration(&self, samples: usize) -> Duration {
        let frames = samples as u64 / u64::from(self.channels.get());
        Duration::from_nanos(frames * 1_000_000_000 / u64::from(self.rate.get()))
    }
}

/// Silence between clips of a phrase, and between repetitions.
pub const CLIP_GAP: Duration = Duration::from_millis(60);
pub const REPEAT_GAP: Duration = Duration::from_millis(700);

/// What [`render`] produced.
#[derive(Debug, Clone)]
pub struct Rendered {
    pub samples: Vec<f32>,
    pub rate: NonZero<u32>,
    pub channels: NonZero<u16>,
    /// How many clips were placed (the phrase's clips × times).
    pub segments: usize,
}

impl Rendered {
    pub fn duration(&self) -> Duration {
        let frames = self.samples.len() as u64 / u64::from(self.channels.get());
        Duration::from_nanos(frames * 1_000_000_000 / u64::from(self.rate.get()))
    }
    pub fn source(&self) -> SamplesBuffer {
        SamplesBuffer::new(self.channels, self.rate, self.samples.clone())
    }
}

/// Concatenate the phrase's clips `times` times with gaps.
pub fn render(set: &ClipSet, clips: &[String], times: u32) -> Result<Rendered, VoiceError> {
    let silence = |d: Duration| {
        let frames = d.as_nanos() as u64 * u64::from(set.rate.get()) / 1_000_000_000;
        vec![0.0f32; (frames * u64::from(set.channels.get())) as usize]
    };
    let mut samples = Vec::new();
    let mut segments = 0;
    for round in 0..times.max(1) {
        if round > 0 {
            samples.extend(silence(REPEAT_GAP));
        }
        for (i, name) in clips.iter().enumerate() {
            if i > 0 {
                samples.extend(silence(CLIP_GAP));
            }
            let clip = set
                .clips
                .get(name)
                .ok_or_else(|| VoiceError::MissingClip(name.clone()))?;
            samples.extend_from_slice(clip);
            segments += 1;
        }
    }
    Ok(Rendered {
        samples,
        rate: set.rate,
        channels: set.channels,
        segments,
    })
}

/// Render an announcement into a WAV file (for tests and for halls checking their clips).
pub fn write_wav(rendered: &Rendered, path: &Path) -> Result<(), VoiceError> {
    rodio::wav_to_file(rendered.source(), path).map_err(|e| VoiceError::Write(e.to_string()))
}

/// One call to announce.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Announcement {
    pub number: String,
    pub window: u32,
    pub times: u32,
}

/// Plays announcements one at a time on the default audio device, from its own thread. Sends
/// never block the caller; a queue of calls is played in order.
#[derive(Debug)]
pub struct Announcer {
    tx: mpsc::Sender<Announcement>,
}

impl Announcer {
    /// Start the player thread. Without an audio device the thread reports the error through
    /// `on_error` once per announcement and goes on (the display still shows the call).
    pub fn start(
        set: ClipSet,
        on_error: impl Fn(VoiceError) + Send + 'static,
    ) -> Result<Announcer, VoiceError> {
        let (tx, rx) = mpsc::channel::<Announcement>();
        std::thread::Builder::new()
            .name("onetrip-voice".into())
            .spawn(move || {
                let mut sink: Option<rodio::MixerDeviceSink> = None;
                for a in rx {
                    let clips = match phrase(&a.number, a.window) {
                        Ok(c) => c,
                        Err(e) => {
                            on_error(e);
                            continue;
                        }
                    };
                    let rendered = match render(&set, &clips, a.times) {
                        Ok(r) => r,
                        Err(e) => {
                            on_error(e);
                            continue;
                        }
                    };
                    if sink.is_none() {
                        match rodio::DeviceSinkBuilder::open_default_sink() {
                            Ok(mut s) => {
                                s.log_on_drop(false);
                                sink = Some(s);
                            }
                            Err(e) => {
                                on_error(VoiceError::NoDevice(e.to_string()));
                                continue;
                            }
                        }
                    }
                    if let Some(s) = &sink {
                        let player = rodio::Player::connect_new(s.mixer());
                        player.append(rendered.source());
                        // Blocks this thread only: the next call waits for this one to end.
                        player.sleep_until_end();
                    }
                }
            })
            .map_err(|e| VoiceError::NoDevice(format!("语音线程无法启动：{e}")))?;
        Ok(Announcer { tx })
    }

    /// Queue a call for announcement.
    pub fn announce(&self, a: Announcement) {
        // The thread lives as long as the app; a send error means it already ended.
        let _ = self.tx.send(a);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numerals_read_like_a_hall_announcer() {
        let s = |v: Vec<String>| v.join(" ");
        assert_eq!(s(numeral(3)), "3");
        assert_eq!(s(numeral(10)), "shi");
        assert_eq!(s(numeral(12)), "shi 2");
        assert_eq!(s(numeral(20)), "2 shi");
        assert_eq!(s(numeral(35)), "3 shi 5");
        assert_eq!(s(numeral(100)), "1 bai");
        assert_eq!(s(numeral(105)), "1 bai 0 5");
        assert_eq!(s(numeral(110)), "1 bai 1 shi");
        assert_eq!(s(numeral(999)), "9 bai 9 shi 9");
    }

    #[test]
    fn the_phrase_of_a001_at_window_3() {
        assert_eq!(
            phrase("A001", 3).unwrap().join(" "),
            "qing a 0 0 1 hao dao 3 hao chuangkou banli"
        );
        assert!(phrase("A-1", 3).is_err());
        for name in phrase("AZ909", 123).unwrap() {
            assert!(
                CLIP_NAMES.contains(&name.as_str()),
                "{name} is a known clip"
            );
        }
    }
}
