//! The demo data of the run command.

use std::time::Duration;

use serde_json::{Value, json};
use sqlx::PgPool;

use crate::support::app::TestApp;

async fn counts(pool: &PgPool) -> Vec<i64> {
    let mut out = Vec::new();
    for table in [
        "users",
        "chains",
        "chain_members",
        "theatres",
        "screens",
        "seats",
        "movies",
        "theatre_movies",
        "shows",
    ] {
        let n: i64 =
            sqlx::query_scalar(sqlx::AssertSqlSafe(format!("select count(*) from {table}")))
                .fetch_one(pool)
                .await
                .expect("count");
        out.push(n);
    }
    out
}

#[sqlx::test(migrations = "../migrations")]
async fn demo_data_loads_twice_harmlessly_and_its_accounts_work(pool: PgPool) {
    let buffer = Duration::from_secs(15 * 60);
    let passwords = cineflow::auth::Passwords::new(2, Duration::from_secs(2));
    cineflow::demo::load(&pool, &passwords, buffer)
        .await
        .expect("first load");
    let first = counts(&pool).await;
    cineflow::demo::load(&pool, &passwords, buffer)
        .await
        .expect("second load");
    assert_eq!(counts(&pool).await, first, "a second load adds nothing");
    let shows = first[8];
    assert!((30..=42).contains(&shows), "about a week of shows: {shows}");
    // The demo movies belong to the demo chain (the one chain), so the demo owner edits them;
    // also when they were loaded before movies had owners.
    let unowned: i64 = sqlx::query_scalar(
        "select count(*) from movies where chain_id is distinct from (select id from chains)",
    )
    .fetch_one(&pool)
    .await
    .expect("unowned movies");
    assert_eq!(unowned, 0, "every demo movie is the demo chain's");
    sqlx::query("update movies set chain_id = null")
        .execute(&pool)
        .await
        .expect("as before migration 0008");
    cineflow::demo::load(&pool, &passwords, buffer)
        .await
        .expect("third load");
    let unowned: i64 = sqlx::query_scalar("select count(*) from movies where chain_id is null")
        .fetch_one(&pool)
        .await
        .expect("unowned movies");
    assert_eq!(
        unowned, 0,
        "a load gives platform demo movies to the demo chain"
    );
    assert_eq!(counts(&pool).await, first, "and adds nothing");

    let app = TestApp::spawn(pool).await;
    for (email, password) in [cineflow::demo::OWNER, cineflow::demo::CUSTOMER] {
        let res = app
            .client
            .post(app.url("/api/v1/auth/signin"))
            .json(&json!({ "email": email, "password": password }))
            .send()
            .await
            .expect("sent");
        assert_eq!(res.status(), 200, "{email}");
    }
    let page: Value = app
        .get("/api/v1/shows?city=bengaluru&limit=200")
        .await
        .json()
        .await
        .expect("json");
    let items = page["items"].as_array().expect("items");
    assert_eq!(items.len() as i64, shows);
    let seats: Value = app
        .get(&format!(
            "/api/v1/shows/{}/seats",
            items[0]["id"].as_str().expect("id")
        ))
        .await
        .json()
        .await
        .expect("json");
    assert!(seats["items"].as_array().is_some_and(|s| s.len() > 50));
    app.stop().await;
}
