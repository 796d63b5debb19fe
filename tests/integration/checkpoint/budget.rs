//! The store's budget: the oldest turns go first, across sessions; a session says once that
//! its history was trimmed; contents no kept checkpoint needs go at the first gc.

use super::*;

fn random(len: usize) -> Vec<u8> {
    let mut bytes = vec![0u8; len];
    use std::io::Read;
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .expect("urandom");
    bytes
}

#[test]
fn the_budget_drops_the_oldest_turns_first_and_the_session_says_so_once() {
    let fx = Fixture::new();
    let contents: Vec<Vec<u8>> = (0..4).map(|_| random(256 << 10)).collect();
    std::fs::write(fx.ws.join("data.bin"), &contents[0]).unwrap();
    let limits = Limits {
        budget: 900 << 10,
        ..Limits::default()
    };
    let store = fx.store(limits);
    let mut hist = store.session("live", &fx.ws).expect("session");
    for (i, content) in contents.iter().enumerate().skip(1) {
        turn(&mut hist, &format!("turn {i}"), || {
            std::fs::write(fx.ws.join("data.bin"), content).unwrap();
        });
    }
    assert!(store.size().unwrap().bytes > limits.budget);
    let report = store.gc().expect("gc");
    assert_eq!(report.trimmed, [("live".to_string(), 1)]);
    assert!(
        !report.over_budget && report.after <= limits.budget,
        "{report:?}"
    );
    let turns: Vec<u32> = hist.checkpoints().unwrap().iter().map(|c| c.turn).collect();
    assert_eq!(turns, [2, 3]);
    let notice = hist.take_trim_notice().unwrap().expect("a notice");
    assert_eq!(notice.dropped_turns, 1);
    assert!(notice.to_string().contains("trimmed"));
    assert_eq!(hist.take_trim_notice().unwrap(), None);
    // The kept turns still undo.
    let preview = hist.preview_undo(2).expect("preview");
    hist.undo(&preview, false).expect("undo");
    assert_eq!(std::fs::read(fx.ws.join("data.bin")).unwrap(), contents[1]);
}

#[test]
fn a_closed_session_goes_before_a_live_one_and_round_contents_are_collected() {
    let fx = Fixture::new();
    let old_ws = fx.ws.join("old");
    let live_ws = fx.ws.join("live");
    std::fs::create_dir_all(&old_ws).unwrap();
    std::fs::create_dir_all(&live_ws).unwrap();
    std::fs::write(old_ws.join("f"), random(300 << 10)).unwrap();
    let store = fx.store(Limits {
        budget: 1 << 30,
        ..Limits::default()
    });
    {
        let mut old = store.session("old", &old_ws).expect("old");
        turn(&mut old, "old turn", || {
            std::fs::write(old_ws.join("f"), random(300 << 10)).unwrap();
        });
    }
    std::fs::write(live_ws.join("f"), "v0").unwrap();
    let mut live = store.session("live", &live_ws).expect("live");
    live.begin_turn(TurnStart {
        prompt: "two rounds",
        history_len: 4,
    })
    .unwrap();
    std::fs::write(live_ws.join("f"), "round 1 only").unwrap();
    live.after_round().unwrap();
    std::fs::write(live_ws.join("f"), "v2").unwrap();
    live.after_round().unwrap();
    let objects = store.size().unwrap().objects;
    // Within budget: nothing dropped, but round 1's content is needed by no checkpoint.
    let report = store.gc().expect("gc");
    assert_eq!(report.removed_objects, 1, "{report:?}");
    assert!(report.trimmed.is_empty() && report.removed_sessions.is_empty());
    assert_eq!(store.size().unwrap().objects, objects - 1);

    let tight = Store::open(
        &fx.store_dir,
        Limits {
            budget: 200 << 10,
            ..Limits::default()
        },
    )
    .unwrap();
    let report = tight.gc().expect("gc");
    assert_eq!(report.removed_sessions, ["old".to_string()], "{report:?}");
    assert!(
        report.trimmed.is_empty() && !report.over_budget,
        "{report:?}"
    );
    let ids: Vec<_> = tight
        .sessions()
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(ids, ["live".to_string()]);
    let preview = live.preview_undo(1).expect("preview");
    assert_eq!(preview.turns[0].history_len, 4);
    live.undo(&preview, false).expect("undo");
    assert_eq!(std::fs::read(live_ws.join("f")).unwrap(), b"v0");
}
