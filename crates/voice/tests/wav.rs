//! The announcement rendered to a WAV file: the expected clips, in the expected number, with
//! the expected length; a hall's own recordings replace the built-in clips.

use std::path::Path;
use std::time::Duration;

use onetrip_voice::{CLIP_GAP, ClipSet, REPEAT_GAP, VoiceError, phrase, render, write_wav};

/// (sample rate, channels, bits, data bytes) from a RIFF/WAVE file, parsed by hand so the test
/// does not trust the writer's own reader.
fn wav_info(path: &Path) -> (u32, u16, u16, u32) {
    let b = std::fs::read(path).unwrap();
    assert_eq!(&b[0..4], b"RIFF");
    assert_eq!(&b[8..12], b"WAVE");
    let mut i = 12;
    let (mut rate, mut ch, mut bits, mut data) = (0, 0, 0, 0);
    while i + 8 <= b.len() {
        let id = &b[i..i + 4];
        let len = u32::from_le_bytes(b[i + 4..i + 8].try_into().unwrap());
        let body = &b[i + 8..];
        if id == b"fmt " {
            ch = u16::from_le_bytes(body[2..4].try_into().unwrap());
            rate = u32::from_le_bytes(body[4..8].try_into().unwrap());
            bits = u16::from_le_bytes(body[14..16].try_into().unwrap());
        } else if id == b"data" {
            data = len;
        }
        i += 8 + len as usize + (len as usize & 1);
    }
    (rate, ch, bits, data)
}

#[test]
fn a001_to_window_3_twice_has_22_segments_and_the_summed_length() {
    let set = ClipSet::builtin().unwrap();
    let clips = phrase("A001", 3).unwrap();
    assert_eq!(clips.len(), 11, "请 A 0 0 1 号 到 3 号 窗口 办理");
    let r = render(&set, &clips, 2).unwrap();
    assert_eq!(r.segments, 22, "the phrase twice");
    let clip_sum: Duration = clips.iter().map(|c| set.duration(c).unwrap()).sum();
    let expected = clip_sum * 2 + CLIP_GAP * 10 * 2 + REPEAT_GAP;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a001-w3.wav");
    write_wav(&r, &path).unwrap();
    let (rate, ch, bits, data) = wav_info(&path);
    assert_eq!((rate, ch), (set.sample_rate(), 1));
    let frames = u64::from(data) / u64::from(bits / 8) / u64::from(ch);
    let secs = frames as f64 / f64::from(rate);
    let want = expected.as_secs_f64();
    assert!(
        (secs - want).abs() < 0.01,
        "WAV lasts {secs:.3} s, expected {want:.3} s"
    );
    assert!(
        (3.0..20.0).contains(&secs),
        "an announcement twice is a few seconds long, not {secs}"
    );
    // Not silence: the clips carry sound.
    let loud = r.samples.iter().filter(|s| s.abs() > 0.05).count();
    assert!(loud > r.samples.len() / 10, "mostly audible");
}

#[test]
fn a_halls_own_recording_replaces_a_clip_and_mixed_formats_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let builtin = ClipSet::builtin().unwrap();
    // The hall "records" 请 as a copy of 办理 (longer): the clip now lasts as long as 办理.
    let r = render(&builtin, &["banli".into()], 1).unwrap();
    write_wav(&r, &dir.path().join("qing.wav")).unwrap();
    let hall = ClipSet::load(Some(dir.path())).unwrap();
    assert_eq!(hall.duration("qing"), builtin.duration("banli"));
    assert_ne!(hall.duration("qing"), builtin.duration("qing"));

    // A clip at another sample rate is refused, with its name.
    let mut odd = r.clone();
    odd.rate = std::num::NonZero::new(8000).unwrap();
    write_wav(&odd, &dir.path().join("hao.wav")).unwrap();
    match ClipSet::load(Some(dir.path())) {
        Err(VoiceError::MixedFormat { name, rate, .. }) => {
            assert_eq!((name.as_str(), rate), ("hao", 8000));
        }
        other => panic!("expected MixedFormat, got {other:?}"),
    }
}
