//! The holiday-notice loader (holiday-cn JSON, as imported by an admin) on any text. It must
//! never panic; a year it accepts must build a calendar whose every day of that year answers.
#![no_main]

use libfuzzer_sys::fuzz_target;
use onetrip_core::calendar::data::{merge, parse_year};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(year) = parse_year(text) else {
        return;
    };
    for day in &year.days {
        let in_year = day.date.year() == year.year
            || (day.date.year() == year.year - 1 && day.date.month() == 12);
        assert!(
            in_year,
            "every listed day is in its year or the December before"
        );
    }
    let cal = merge(1, std::slice::from_ref(&year), &[]);
    let mut d = jiff::civil::date(year.year, 1, 1);
    while d.year() == year.year {
        cal.day(d)
            .expect("an accepted year answers for each of its days");
        d = d.tomorrow().unwrap();
    }
});
