use super::*;

on_both_backends!(
    deliveries_are_unique_by_id,
    a_batch_stores_each_id_once_and_says_which_were_new_and_marks_them_processed,
    a_batch_of_deliveries_makes_each_plan_once
);

async fn deliveries_are_unique_by_id(store: Store) {
    let d = Delivery {
        delivery_id: "abc".into(),
        source: "launchpad".into(),
        event_type: "snap:build:0.1".into(),
        received_at: 1,
        body: b"{}".to_vec(),
        hook_target: None,
    };
    assert!(store.record_delivery(&d).await.unwrap());
    assert!(!store.record_delivery(&d).await.unwrap());
    assert_eq!(
        store.unprocessed_deliveries(1_000_000).await.unwrap(),
        vec![d]
    );
    store
        .mark_deliveries_processed(&[("abc".into(), "ok".into())], 2)
        .await
        .unwrap();
    assert!(store
        .unprocessed_deliveries(1_000_000)
        .await
        .unwrap()
        .is_empty());
}

pub(in crate::store) fn delivery(n: usize) -> Delivery {
    Delivery {
        delivery_id: format!("d{n}"),
        source: "launchpad".into(),
        event_type: "snap:build:0.1".into(),
        received_at: n as i64,
        // Big enough that a few batches fill the allowed pages.
        body: vec![b'x'; 2_000 + n % 7],
        hook_target: None,
    }
}

async fn stored_ids(store: &Store) -> std::collections::BTreeSet<String> {
    let rows: Vec<(String,)> = sqlx::query_as("SELECT delivery_id FROM deliveries")
        .fetch_all(&store.pool)
        .await
        .unwrap();
    rows.into_iter().map(|(id,)| id).collect()
}

/// The next eight deliveries after the `n`th (`n` moves on).
fn next_eight(n: &mut usize) -> Vec<Delivery> {
    (0..8)
        .map(|_| {
            *n += 1;
            delivery(*n)
        })
        .collect()
}

/// A full disk must never turn into acknowledged-but-lost deliveries, and
/// the store must recover by itself when space comes back (issue: 3,005
/// acked, 97 committed, "database is locked" until restart).
#[tokio::test]
async fn a_full_store_acknowledges_nothing_it_did_not_keep_and_recovers() {
    let (_d, store) = temp_store().await;
    store.limit_pages_for_tests(Some(40)).await.unwrap();
    let mut acked = std::collections::BTreeSet::new();
    let mut failures = 0;
    let mut n = 0;
    for _ in 0..60 {
        let batch = next_eight(&mut n);
        match store.record_deliveries(&batch).await {
            Ok(new) => {
                assert!(new.iter().all(|x| *x));
                acked.extend(batch.iter().map(|d| d.delivery_id.clone()));
            }
            Err(_) => failures += 1,
        }
    }
    assert!(
        failures > 10,
        "the limit must bite ({failures} failed batches)"
    );
    assert_eq!(stored_ids(&store).await, acked, "acked = stored while full");
    // Space returns: the very next writes succeed, on every pooled connection.
    store.limit_pages_for_tests(None).await.unwrap();
    for _ in 0..20 {
        let batch = next_eight(&mut n);
        store
            .record_deliveries(&batch)
            .await
            .expect("writes succeed once space is back");
        acked.extend(batch.iter().map(|d| d.delivery_id.clone()));
    }
    // Other writers recover too (no connection stuck inside a transaction).
    insert(&store, "after-full", &["k-after-full"], PlanState::Pending).await;
    store.close().await;
    let reopened = Store::open(&_d.path().join("s.sqlite")).await.unwrap();
    assert_eq!(
        stored_ids(&reopened).await,
        acked,
        "acked = stored after reopening"
    );
}

async fn a_batch_stores_each_id_once_and_says_which_were_new_and_marks_them_processed(
    store: Store,
) {
    assert!(store.record_delivery(&delivery(1)).await.unwrap());
    // 300 deliveries (three INSERT statements), one stored before, one
    // repeated within the batch (in another statement).
    let mut batch: Vec<Delivery> = (0..300).map(delivery).collect();
    batch.push(delivery(250));
    let new = store.record_deliveries(&batch).await.unwrap();
    assert_eq!(new.len(), 301);
    assert!(!new[1], "stored before");
    assert!(new[250], "the first of a repeat is new");
    assert!(!new[300], "its repeat is not");
    assert_eq!(new.iter().filter(|n| **n).count(), 299);
    assert_eq!(
        store.unprocessed_deliveries(1_000).await.unwrap().len(),
        300
    );
    // Marked processed many at once (one UPDATE per result and 128 ids):
    // each keeps its own result.
    let done: Vec<(String, String)> = (0..300)
        .map(|i| {
            let result = match i % 3 {
                0 => "recorded".to_string(),
                1 => format!("plan #{i}"),
                _ => "failed: no".to_string(),
            };
            (delivery(i).delivery_id, result)
        })
        .collect();
    store.mark_deliveries_processed(&done, 5).await.unwrap();
    assert!(store
        .unprocessed_deliveries(1_000)
        .await
        .unwrap()
        .is_empty());
    for (id, result) in [
        (0, "recorded"),
        (297, "recorded"),
        (4, "plan #4"),
        (299, "failed: no"),
    ] {
        assert_eq!(
            store
                .delivery_status(&delivery(id).delivery_id)
                .await
                .unwrap(),
            Some(Some(result.to_string())),
            "delivery {id}"
        );
    }
    // A batch of one statement (on SQLite, in autocommit) says the same.
    let small = [delivery(7), delivery(500), delivery(501), delivery(500)];
    assert_eq!(
        store.record_deliveries(&small).await.unwrap(),
        [false, true, true, false]
    );
    let only_new = [delivery(502), delivery(503)];
    assert_eq!(
        store.record_deliveries(&only_new).await.unwrap(),
        [true, true]
    );
    assert_eq!(
        store.unprocessed_deliveries(1_000).await.unwrap().len(),
        4,
        "each new one stored once"
    );
}

async fn a_batch_of_deliveries_makes_each_plan_once(store: Store) {
    let before = insert(&store, "k-old", &["old"], PlanState::Pending).await;
    let o = origin();
    // 150 deliveries (three plan INSERTs): even ones make a two-step plan;
    // 51 repeats a request seen before, 53 one made earlier in the batch.
    let drafts: Vec<(String, PlanDraft)> = (0..150)
        .map(|i| {
            let key = match i {
                51 => "k-old".to_string(),
                53 => "k2".to_string(),
                _ => format!("k{i}"),
            };
            let steps = [format!("s{i}-a"), format!("s{i}-b")];
            let d = draft(&[steps[0].as_str(), steps[1].as_str()]);
            (key, d)
        })
        .collect();
    let batch: Vec<(String, Option<NewPlan<'_>>)> = drafts
        .iter()
        .enumerate()
        .map(|(i, (key, d))| {
            let plan = (i % 2 == 0 || i == 51 || i == 53)
                .then(|| NewPlan::released(key, "webhook", "launchpad", &o, d));
            (format!("d{i}"), plan)
        })
        .collect();
    for (id, _) in &batch {
        store
            .record_delivery(&Delivery {
                delivery_id: id.clone(),
                ..delivery(0)
            })
            .await
            .unwrap();
    }
    let out = store.finish_deliveries(&batch, 7).await.unwrap();
    assert_eq!(out[1], None, "no plan");
    assert_eq!(out[51], Some(Inserted::Existing(before.id())));
    assert_eq!(out[53], Some(Inserted::Existing(out[2].unwrap().id())));
    let new: Vec<i64> = out
        .iter()
        .filter_map(|o| match o {
            Some(Inserted::New(id)) => Some(*id),
            _ => None,
        })
        .collect();
    assert_eq!(new.len(), 75);
    assert!(new.windows(2).all(|w| w[0] < w[1]), "ids in delivery order");
    for id in [new[0], new[74]] {
        let p = store.plan_progress(id).await.unwrap();
        assert_eq!((p.done, p.total), (0, 2), "plan {id}");
    }
    // Steps are claimed in plan order: the plan made before the batch,
    // then the batch's first plan's first step.
    let first = store.claim_next(8).await.unwrap().unwrap();
    assert_eq!((first.plan_id, first.key.as_str()), (before.id(), "old"));
    let second = store.claim_next(8).await.unwrap().unwrap();
    assert_eq!((second.plan_id, second.key.as_str()), (new[0], "s0-a"));
    assert_eq!(
        store.delivery_status("d53").await.unwrap(),
        Some(Some(format!("plan #{}", out[2].unwrap().id())))
    );
    assert_eq!(
        store.delivery_status("d1").await.unwrap(),
        Some(Some("recorded".into()))
    );
}
