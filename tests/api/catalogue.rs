//! The catalogue: movies, theatres and a theatre's now-showing list.

use serde_json::{Value, json};
use sqlx::PgPool;

use crate::support::app::TestApp;
use crate::support::client::{
    assert_invalid, assert_problem, base_time, expect_json, expect_status, ids, movie_body,
    parse_time, s, theatre_body,
};

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

fn keys(v: &Value) -> Vec<String> {
    sorted(
        v.as_object()
            .unwrap_or_else(|| panic!("not an object: {v}"))
            .keys()
            .cloned()
            .collect(),
    )
}

const MOVIE_KEYS: [&str; 14] = [
    "cast",
    "certificate",
    "chain_id",
    "created_at",
    "description",
    "director",
    "id",
    "languages",
    "release_date",
    "release_status",
    "runtime_minutes",
    "title",
    "trailer_url",
    "updated_at",
];

fn movie_keys() -> Vec<String> {
    sorted(MOVIE_KEYS.iter().map(|k| (*k).to_owned()).collect())
}

const THEATRE_KEYS: [&str; 9] = [
    "address",
    "chain_id",
    "city",
    "created_at",
    "description",
    "id",
    "name",
    "pin_code",
    "updated_at",
];

// ---------------------------------------------------------------------------------------
// Movies

#[sqlx::test(migrations = "../migrations")]
async fn creating_a_movie_returns_every_field(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let (_, token) = app.approved_owner("Owner").await;
    let body = movie_body("The Long Night");
    let movie = app.movie_with(&token, body.clone()).await;
    assert_eq!(keys(&movie), movie_keys(), "{movie}");
    for field in [
        "title",
        "description",
        "cast",
        "director",
        "trailer_url",
        "release_date",
        "release_status",
        "languages",
        "runtime_minutes",
        "certificate",
    ] {
        assert_eq!(movie[field], body[field], "{field}");
    }
    parse_time(&movie["created_at"]);
    parse_time(&movie["updated_at"]);

    // certificate is optional.
    let mut body = movie_body("No Certificate");
    body.as_object_mut().expect("object").remove("certificate");
    let movie = app.movie_with(&token, body).await;
    assert!(movie["certificate"].is_null(), "{movie}");

    // Admins may create movies too; coming_soon is a valid status.
    let admin = app.admin_token().await;
    let mut body = movie_body("Soon");
    body["release_status"] = json!("coming_soon");
    body["trailer_url"] = json!("http://example.com/t");
    let movie = app.movie_with(&admin, body).await;
    assert_eq!(movie["release_status"], "coming_soon");
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn creating_a_movie_needs_an_approved_owner_or_admin(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let (_, customer) = app.customer("Cust").await;
    let (_, _, pending) = app.pending_owner("Pending").await;
    assert_problem(
        app.post_json("/movies", None, movie_body("X")).await,
        401,
        "unauthorized",
    )
    .await;
    for token in [&customer, &pending] {
        assert_problem(
            app.post_json("/movies", Some(token), movie_body("X")).await,
            403,
            "forbidden",
        )
        .await;
    }
    let list = app.get_ok("/movies", None).await;
    assert_eq!(list, json!({"items": [], "next_cursor": null}));
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn creating_a_movie_validates_every_field(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let (_, token) = app.approved_owner("Owner").await;
    let cases: Vec<(&str, Value)> = vec![
        ("cast", json!([])),
        ("languages", json!([])),
        ("runtime_minutes", json!(0)),
        ("runtime_minutes", json!(601)),
        ("runtime_minutes", json!(-5)),
        ("trailer_url", json!("ftp://example.com/t.mp4")),
        ("trailer_url", json!("not a url")),
        ("release_status", json!("out_now")),
        ("title", json!("   ")),
    ];
    for (field, value) in cases {
        let mut body = movie_body("Invalid");
        body[field] = value.clone();
        let res = app.post_json("/movies", Some(&token), body).await;
        let problem = assert_problem(res, 422, "validation_failed").await;
        assert!(
            problem["errors"][field].is_array(),
            "{field} = {value}: expected errors.{field} in {problem}"
        );
    }
    for missing in [
        "title",
        "cast",
        "director",
        "release_date",
        "runtime_minutes",
    ] {
        let mut body = movie_body("Missing");
        body.as_object_mut().expect("object").remove(missing);
        let res = app.post_json("/movies", Some(&token), body).await;
        assert_invalid(res, missing).await;
    }
    // Wrong types and unknown fields are 400.
    let mut body = movie_body("Typed");
    body["runtime_minutes"] = json!("120");
    assert_problem(
        app.post_json("/movies", Some(&token), body).await,
        400,
        "bad_request",
    )
    .await;
    let mut body = movie_body("Typed");
    body["cast"] = json!("Just One Actor");
    assert_problem(
        app.post_json("/movies", Some(&token), body).await,
        400,
        "bad_request",
    )
    .await;
    let mut body = movie_body("Smuggled");
    body["id"] = json!(uuid::Uuid::now_v7());
    assert_problem(
        app.post_json("/movies", Some(&token), body).await,
        400,
        "bad_request",
    )
    .await;
    let list = app.get_ok("/movies", None).await;
    assert_eq!(list["items"], json!([]));
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn movies_are_listed_and_filtered_publicly(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let (_, token) = app.approved_owner("Owner").await;
    let night = s(
        &app.movie_with(&token, movie_body("The Long NIGHT")).await,
        "id",
    );
    let mut body = movie_body("Nightcrawler Returns");
    body["release_status"] = json!("coming_soon");
    body["languages"] = json!(["Tamil"]);
    let crawler = s(&app.movie_with(&token, body).await, "id");
    let mut body = movie_body("Daybreak");
    body["languages"] = json!(["Tamil", "Telugu"]);
    let day = s(&app.movie_with(&token, body).await, "id");

    let all = app.get_ok("/movies", None).await;
    assert_eq!(
        sorted(ids(&all)),
        sorted(vec![night.clone(), crawler.clone(), day.clone()])
    );
    assert!(all["next_cursor"].is_null());

    let q = app.get_ok("/movies?q=night", None).await;
    assert_eq!(
        sorted(ids(&q)),
        sorted(vec![night.clone(), crawler.clone()])
    );
    let q = app.get_ok("/movies?q=LONG%20n", None).await;
    assert_eq!(ids(&q), vec![night.clone()]);

    let soon = app.get_ok("/movies?release_status=coming_soon", None).await;
    assert_eq!(ids(&soon), vec![crawler.clone()]);
    let released = app.get_ok("/movies?release_status=released", None).await;
    assert_eq!(
        sorted(ids(&released)),
        sorted(vec![night.clone(), day.clone()])
    );

    let tamil = app.get_ok("/movies?language=Tamil", None).await;
    assert_eq!(
        sorted(ids(&tamil)),
        sorted(vec![crawler.clone(), day.clone()])
    );
    let both = app
        .get_ok("/movies?language=Tamil&release_status=released", None)
        .await;
    assert_eq!(ids(&both), vec![day.clone()]);

    let none = app.get_ok("/movies?q=zzzz", None).await;
    assert_eq!(none, json!({"items": [], "next_cursor": null}));

    assert_problem(
        app.get_auth("/movies?colour=red", None).await,
        400,
        "bad_request",
    )
    .await;
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn a_movie_is_readable_by_id(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let (_, token) = app.approved_owner("Owner").await;
    let movie = app.movie_with(&token, movie_body("Readable")).await;
    let got = app
        .get_ok(&format!("/movies/{}", s(&movie, "id")), None)
        .await;
    assert_eq!(got, movie);
    assert_problem(
        app.get_auth(&format!("/movies/{}", uuid::Uuid::now_v7()), None)
            .await,
        404,
        "not_found",
    )
    .await;
    assert_problem(
        app.get_auth("/movies/12345", None).await,
        400,
        "bad_request",
    )
    .await;
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn patching_a_movie_changes_only_the_given_fields(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let (_, token) = app.approved_owner("Owner").await;
    let movie = app.movie_with(&token, movie_body("Before")).await;
    let path = format!("/movies/{}", s(&movie, "id"));
    let res = app
        .patch_json(
            &path,
            Some(&token),
            json!({"title": "After", "runtime_minutes": 95, "languages": ["Kannada"]}),
        )
        .await;
    let patched = expect_json(res, 200).await;
    assert_eq!(patched["title"], "After");
    assert_eq!(patched["runtime_minutes"], 95);
    assert_eq!(patched["languages"], json!(["Kannada"]));
    assert_eq!(patched["director"], movie["director"]);
    assert_eq!(patched["cast"], movie["cast"]);
    assert_eq!(patched["created_at"], movie["created_at"]);
    assert!(parse_time(&patched["updated_at"]) >= parse_time(&movie["updated_at"]));
    assert_eq!(app.get_ok(&path, None).await, patched);

    // An admin may patch too.
    let admin = app.admin_token().await;
    let res = app
        .patch_json(&path, Some(&admin), json!({"certificate": "A"}))
        .await;
    assert_eq!(expect_json(res, 200).await["certificate"], "A");
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn patching_a_movie_rejects_bad_input_and_strangers(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let (_, token) = app.approved_owner("Owner").await;
    let (_, customer) = app.customer("Cust").await;
    let (_, _, pending) = app.pending_owner("Pending").await;
    let id = app.movie(&token).await;
    let path = format!("/movies/{id}");
    assert_problem(
        app.patch_json(&path, Some(&token), json!({"rating": 5}))
            .await,
        400,
        "bad_request",
    )
    .await;
    assert_problem(
        app.patch_json(&path, Some(&token), json!({"id": uuid::Uuid::now_v7()}))
            .await,
        400,
        "bad_request",
    )
    .await;
    assert_invalid(
        app.patch_json(&path, Some(&token), json!({"runtime_minutes": 0}))
            .await,
        "runtime_minutes",
    )
    .await;
    assert_invalid(
        app.patch_json(&path, Some(&token), json!({"cast": []}))
            .await,
        "cast",
    )
    .await;
    assert_problem(
        app.patch_json(&path, None, json!({"title": "X"})).await,
        401,
        "unauthorized",
    )
    .await;
    for t in [&customer, &pending] {
        assert_problem(
            app.patch_json(&path, Some(t), json!({"title": "X"})).await,
            403,
            "forbidden",
        )
        .await;
    }
    assert_problem(
        app.patch_json(
            &format!("/movies/{}", uuid::Uuid::now_v7()),
            Some(&token),
            json!({"title": "X"}),
        )
        .await,
        404,
        "not_found",
    )
    .await;
    let unchanged = app.get_ok(&path, None).await;
    assert_ne!(unchanged["title"], "X");
    assert_eq!(unchanged["runtime_minutes"], 120);
    app.stop().await;
}

// Movies are edited only by their chain (issue 13).

#[sqlx::test(migrations = "../migrations")]
async fn an_owner_creates_a_movie_for_their_own_chain_and_edits_it(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let (_, token) = app.approved_owner("Owner").await;
    let chain = app.chain(&token, "Own").await;
    let mut body = movie_body("Ours");
    body["chain_id"] = json!(chain);
    let res = app.post_json("/movies", Some(&token), body).await;
    let movie = expect_json(res, 201).await;
    assert_eq!(movie["chain_id"], chain.as_str(), "{movie}");
    let path = format!("/movies/{}", s(&movie, "id"));
    assert_eq!(app.get_ok(&path, None).await["chain_id"], chain.as_str());
    let res = app
        .patch_json(&path, Some(&token), json!({"title": "Still Ours"}))
        .await;
    let patched = expect_json(res, 200).await;
    assert_eq!(patched["title"], "Still Ours");
    assert_eq!(patched["chain_id"], chain.as_str());
    // Naming the same chain again changes nothing; another chain is refused.
    let res = app
        .patch_json(&path, Some(&token), json!({"chain_id": chain}))
        .await;
    expect_json(res, 200).await;
    let other = app.chain(&token, "Second").await;
    assert_invalid(
        app.patch_json(&path, Some(&token), json!({"chain_id": other}))
            .await,
        "chain_id",
    )
    .await;
    assert_eq!(app.get_ok(&path, None).await["chain_id"], chain.as_str());
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn an_owner_must_name_a_chain_of_theirs_for_a_new_movie(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let (_, token) = app.approved_owner("Owner").await;
    app.chain(&token, "Own").await;
    let (_, stranger) = app.approved_owner("Stranger").await;
    let theirs = app.chain(&stranger, "Theirs").await;
    // No chain: 422 with the field, like any other missing field.
    let res = app
        .post_json("/movies", Some(&token), movie_body("Nobody's"))
        .await;
    let problem = assert_invalid(res, "chain_id").await;
    assert!(problem["errors"]["title"].is_null(), "{problem}");
    // Another chain, or no chain at all: 404, as `POST /theatres` answers for a chain the
    // caller is not staff of.
    for chain in [theirs.clone(), uuid::Uuid::now_v7().to_string()] {
        let mut body = movie_body("Theirs");
        body["chain_id"] = json!(chain);
        assert_problem(
            app.post_json("/movies", Some(&token), body).await,
            404,
            "not_found",
        )
        .await;
    }
    let list = app.get_ok("/movies", None).await;
    assert_eq!(list["items"], json!([]), "nothing was created");
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn another_chains_owner_gets_404_patching_a_movie_but_may_show_it(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let a = app.venue("A").await;
    let b = app.venue("B").await;
    let path = format!("/movies/{}", a.movie_id);
    let before = app.get_ok(&path, None).await;
    assert_eq!(before["chain_id"], a.chain_id.as_str());
    assert_problem(
        app.patch_json(&path, Some(&b.token), json!({"title": "Hijacked"}))
            .await,
        404,
        "not_found",
    )
    .await;
    assert_eq!(
        app.get_ok(&path, None).await,
        before,
        "the movie is unchanged"
    );
    // Every chain may show any movie.
    app.now_showing(&b.token, &b.theatre_id, &a.movie_id).await;
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn an_admin_edits_any_movie_and_alone_edits_platform_movies(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let v = app.venue("Chain").await;
    let admin = app.admin_token().await;
    // A chain's movie.
    let res = app
        .patch_json(
            &format!("/movies/{}", v.movie_id),
            Some(&admin),
            json!({"certificate": "A"}),
        )
        .await;
    let patched = expect_json(res, 200).await;
    assert_eq!(patched["certificate"], "A");
    assert_eq!(patched["chain_id"], v.chain_id.as_str());
    // A platform movie: an admin's without `chain_id`.
    let platform = app.movie_with(&admin, movie_body("Everyone's")).await;
    assert!(platform["chain_id"].is_null(), "{platform}");
    let path = format!("/movies/{}", s(&platform, "id"));
    assert_problem(
        app.patch_json(&path, Some(&v.token), json!({"title": "Mine Now"}))
            .await,
        404,
        "not_found",
    )
    .await;
    assert_eq!(app.get_ok(&path, None).await["title"], "Everyone's");
    let res = app
        .patch_json(&path, Some(&admin), json!({"title": "Platform Cut"}))
        .await;
    assert_eq!(expect_json(res, 200).await["title"], "Platform Cut");
    // An admin may also create a movie for a chain.
    let mut body = movie_body("For The Chain");
    body["chain_id"] = json!(v.chain_id);
    let made = app.movie_with(&admin, body).await;
    assert_eq!(made["chain_id"], v.chain_id.as_str());
    let res = app
        .patch_json(
            &format!("/movies/{}", s(&made, "id")),
            Some(&v.token),
            json!({"title": "Edited By The Chain"}),
        )
        .await;
    expect_json(res, 200).await;
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn only_an_admin_deletes_a_movie(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let (_, token) = app.approved_owner("Owner").await;
    let id = app.movie(&token).await;
    let path = format!("/movies/{id}");
    assert_problem(app.delete(&path, None).await, 401, "unauthorized").await;
    assert_problem(app.delete(&path, Some(&token)).await, 403, "forbidden").await;
    let admin = app.admin_token().await;
    expect_status(app.delete(&path, Some(&admin)).await, 204).await;
    assert_problem(app.get_auth(&path, None).await, 404, "not_found").await;
    assert_problem(app.delete(&path, Some(&admin)).await, 404, "not_found").await;
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn a_movie_with_a_show_cannot_be_deleted(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let v = app.venue("Busy").await;
    app.show(&v.token, &v.screen_id, &v.movie_id, base_time(10))
        .await;
    let admin = app.admin_token().await;
    assert_problem(
        app.delete(&format!("/movies/{}", v.movie_id), Some(&admin))
            .await,
        409,
        "in_use",
    )
    .await;
    app.get_ok(&format!("/movies/{}", v.movie_id), None).await;
    app.stop().await;
}

// ---------------------------------------------------------------------------------------
// Theatres

#[sqlx::test(migrations = "../migrations")]
async fn a_member_creates_a_theatre_and_gets_an_email(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let (owner_id, token) = app.approved_owner("Owner").await;
    let me = app.get_ok("/users/me", Some(&token)).await;
    assert_eq!(me["id"], owner_id);
    let chain = app.chain(&token, "Theatres").await;
    let body = theatre_body(&chain, "Regal Central", "Bengaluru");
    let theatre = app.theatre_with(&token, body.clone()).await;
    let want: Vec<String> = THEATRE_KEYS.iter().map(|k| (*k).to_owned()).collect();
    assert_eq!(keys(&theatre), want, "{theatre}");
    for field in [
        "chain_id",
        "name",
        "description",
        "city",
        "pin_code",
        "address",
    ] {
        assert_eq!(theatre[field], body[field], "{field}");
    }
    assert!(theatre["pin_code"].is_string());
    parse_time(&theatre["created_at"]);
    parse_time(&theatre["updated_at"]);

    let rows: Vec<(String, Vec<String>)> =
        sqlx::query_as("select kind, recipient_emails from notifications")
            .fetch_all(&pool)
            .await
            .expect("notifications");
    assert!(
        rows.contains(&("theatre-created".to_owned(), vec![s(&me, "email")])),
        "no theatre-created email to the creator: {rows:?}"
    );

    let got = app
        .get_ok(&format!("/theatres/{}", s(&theatre, "id")), None)
        .await;
    assert_eq!(got, theatre);
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn an_admin_creates_a_theatre_in_any_chain(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let (_, token) = app.approved_owner("Owner").await;
    let chain = app.chain(&token, "Any").await;
    let admin = app.admin_token().await;
    let theatre = app
        .theatre_with(&admin, theatre_body(&chain, "Admin Built", "Pune"))
        .await;
    assert_eq!(theatre["chain_id"], chain);
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn creating_a_theatre_checks_role_membership_and_fields(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let (_, a) = app.approved_owner("Alpha").await;
    let (_, b) = app.approved_owner("Beta").await;
    let (_, customer) = app.customer("Cust").await;
    let (_, _, pending) = app.pending_owner("Pending").await;
    let chain_a = app.chain(&a, "A").await;
    let _chain_b = app.chain(&b, "B").await;
    let body = theatre_body(&chain_a, "Hall", "Chennai");

    assert_problem(
        app.post_json("/theatres", None, body.clone()).await,
        401,
        "unauthorized",
    )
    .await;
    for t in [&customer, &pending] {
        assert_problem(
            app.post_json("/theatres", Some(t), body.clone()).await,
            403,
            "forbidden",
        )
        .await;
    }
    assert_problem(
        app.post_json("/theatres", Some(&b), body.clone()).await,
        404,
        "not_found",
    )
    .await;
    let unknown_chain = theatre_body(&uuid::Uuid::now_v7().to_string(), "Hall", "Chennai");
    assert_problem(
        app.post_json("/theatres", Some(&a), unknown_chain).await,
        404,
        "not_found",
    )
    .await;

    for missing in ["name", "city", "pin_code", "address", "chain_id"] {
        let mut body = body.clone();
        body.as_object_mut().expect("object").remove(missing);
        assert_invalid(app.post_json("/theatres", Some(&a), body).await, missing).await;
    }
    let mut numeric_pin = body.clone();
    numeric_pin["pin_code"] = json!(600001);
    assert_problem(
        app.post_json("/theatres", Some(&a), numeric_pin).await,
        400,
        "bad_request",
    )
    .await;
    let mut smuggled = body.clone();
    smuggled["owner_id"] = json!(uuid::Uuid::now_v7());
    assert_problem(
        app.post_json("/theatres", Some(&a), smuggled).await,
        400,
        "bad_request",
    )
    .await;
    let list = app.get_ok("/theatres", None).await;
    assert_eq!(list, json!({"items": [], "next_cursor": null}));
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn theatres_are_listed_and_filtered_publicly(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let (_, a) = app.approved_owner("Alpha").await;
    let (_, b) = app.approved_owner("Beta").await;
    let chain_a = app.chain(&a, "A").await;
    let chain_b = app.chain(&b, "B").await;

    let mut body = theatre_body(&chain_a, "Regal Central", "Bengaluru");
    body["pin_code"] = json!("560001");
    body["address"] = json!("1 MG Road");
    let regal = s(&app.theatre_with(&a, body).await, "id");
    let mut body = theatre_body(&chain_a, "Lakeside", "Chennai");
    body["pin_code"] = json!("600001");
    body["address"] = json!("7 Marina Beach Road");
    let lakeside = s(&app.theatre_with(&a, body).await, "id");
    let mut body = theatre_body(&chain_b, "Orion Screens", "BENGALURU");
    body["pin_code"] = json!("560055");
    body["address"] = json!("Brigade Gateway, Rajajinagar");
    let orion = s(&app.theatre_with(&b, body).await, "id");

    let all = app.get_ok("/theatres", None).await;
    assert_eq!(
        sorted(ids(&all)),
        sorted(vec![regal.clone(), lakeside.clone(), orion.clone()])
    );
    let city = app.get_ok("/theatres?city=bengaluru", None).await;
    assert_eq!(
        sorted(ids(&city)),
        sorted(vec![regal.clone(), orion.clone()])
    );
    let pin = app.get_ok("/theatres?pin_code=600001", None).await;
    assert_eq!(ids(&pin), vec![lakeside.clone()]);
    let chain = app
        .get_ok(&format!("/theatres?chain_id={chain_b}"), None)
        .await;
    assert_eq!(ids(&chain), vec![orion.clone()]);
    // q matches name, city or address, case-insensitively.
    let by_name = app.get_ok("/theatres?q=REGAL", None).await;
    assert_eq!(ids(&by_name), vec![regal.clone()]);
    let by_city = app.get_ok("/theatres?q=chenn", None).await;
    assert_eq!(ids(&by_city), vec![lakeside.clone()]);
    let by_address = app.get_ok("/theatres?q=brigade", None).await;
    assert_eq!(ids(&by_address), vec![orion.clone()]);
    let combined = app
        .get_ok(
            &format!("/theatres?city=Bengaluru&chain_id={chain_a}"),
            None,
        )
        .await;
    assert_eq!(ids(&combined), vec![regal.clone()]);

    // movie_id: theatres where it is now showing.
    let movie = app.movie(&a).await;
    app.now_showing(&a, &lakeside, &movie).await;
    let showing = app
        .get_ok(&format!("/theatres?movie_id={movie}"), None)
        .await;
    assert_eq!(ids(&showing), vec![lakeside.clone()]);

    let empty = app.get_ok("/theatres?city=Atlantis", None).await;
    assert_eq!(empty, json!({"items": [], "next_cursor": null}));
    let empty = app
        .get_ok(
            &format!("/theatres?movie_id={}", uuid::Uuid::now_v7()),
            None,
        )
        .await;
    assert_eq!(empty, json!({"items": [], "next_cursor": null}));
    assert_problem(
        app.get_auth("/theatres?chain_id=nope", None).await,
        400,
        "bad_request",
    )
    .await;
    assert_problem(
        app.get_auth("/theatres?colour=red", None).await,
        400,
        "bad_request",
    )
    .await;
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn a_member_patches_a_theatre(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let (_, token) = app.approved_owner("Owner").await;
    let chain = app.chain(&token, "Patch").await;
    let theatre = app
        .theatre_with(&token, theatre_body(&chain, "Old Name", "Mumbai"))
        .await;
    let path = format!("/theatres/{}", s(&theatre, "id"));
    let res = app
        .patch_json(
            &path,
            Some(&token),
            json!({"name": "New Name", "pin_code": "400001"}),
        )
        .await;
    let patched = expect_json(res, 200).await;
    assert_eq!(patched["name"], "New Name");
    assert_eq!(patched["pin_code"], "400001");
    assert_eq!(patched["city"], "Mumbai");
    assert_eq!(patched["chain_id"], chain);
    assert_eq!(app.get_ok(&path, None).await, patched);

    assert_problem(
        app.patch_json(&path, Some(&token), json!({"chain_id": chain}))
            .await,
        400,
        "bad_request",
    )
    .await;
    assert_problem(
        app.patch_json(&path, Some(&token), json!({"name": 7}))
            .await,
        400,
        "bad_request",
    )
    .await;
    assert_problem(
        app.patch_json(&path, None, json!({"name": "Anon"})).await,
        401,
        "unauthorized",
    )
    .await;
    let admin = app.admin_token().await;
    let res = app
        .patch_json(&path, Some(&admin), json!({"city": "Pune"}))
        .await;
    assert_eq!(expect_json(res, 200).await["city"], "Pune");
    assert_problem(
        app.patch_json(
            &format!("/theatres/{}", uuid::Uuid::now_v7()),
            Some(&admin),
            json!({"city": "Pune"}),
        )
        .await,
        404,
        "not_found",
    )
    .await;
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn a_member_deletes_a_theatre(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let (_, token) = app.approved_owner("Owner").await;
    let (_, customer) = app.customer("Cust").await;
    let chain = app.chain(&token, "Delete").await;
    let theatre = app.theatre(&token, &chain).await;
    let path = format!("/theatres/{theatre}");
    assert_problem(app.delete(&path, None).await, 401, "unauthorized").await;
    assert_problem(app.delete(&path, Some(&customer)).await, 403, "forbidden").await;
    expect_status(app.delete(&path, Some(&token)).await, 204).await;
    assert_problem(app.get_auth(&path, None).await, 404, "not_found").await;
    assert_problem(app.delete(&path, Some(&token)).await, 404, "not_found").await;
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn another_chains_owner_gets_404_on_a_theatre(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let (_, a) = app.approved_owner("Alpha").await;
    let (_, b) = app.approved_owner("Beta").await;
    let chain_a = app.chain(&a, "A").await;
    let _chain_b = app.chain(&b, "B").await;
    let theatre = app
        .theatre_with(&a, theatre_body(&chain_a, "Mine", "Delhi"))
        .await;
    let path = format!("/theatres/{}", s(&theatre, "id"));
    assert_problem(
        app.patch_json(&path, Some(&b), json!({"name": "Stolen"}))
            .await,
        404,
        "not_found",
    )
    .await;
    assert_problem(app.delete(&path, Some(&b)).await, 404, "not_found").await;
    assert_eq!(app.get_ok(&path, None).await, theatre);
    app.stop().await;
}

// ---------------------------------------------------------------------------------------
// Now showing

#[sqlx::test(migrations = "../migrations")]
async fn the_now_showing_list_is_managed_by_members(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let (_, token) = app.approved_owner("Owner").await;
    let chain = app.chain(&token, "Showing").await;
    let theatre = app.theatre(&token, &chain).await;
    let m1 = app.movie_with(&token, movie_body("First")).await;
    let m2 = app.movie_with(&token, movie_body("Second")).await;
    let (id1, id2) = (s(&m1, "id"), s(&m2, "id"));
    let list_path = format!("/theatres/{theatre}/movies");

    let empty = app.get_ok(&list_path, None).await;
    assert_eq!(empty, json!({"items": [], "next_cursor": null}));

    let res = app
        .post_json(&list_path, Some(&token), json!({"movie_ids": [id1, id2]}))
        .await;
    let list = expect_json(res, 200).await;
    assert_eq!(sorted(ids(&list)), sorted(vec![id1.clone(), id2.clone()]));
    assert!(list["next_cursor"].is_null());
    for item in list["items"].as_array().expect("items") {
        assert_eq!(keys(item), movie_keys(), "{item}");
    }

    let public = app.get_ok(&list_path, None).await;
    assert_eq!(sorted(ids(&public)), sorted(vec![id1.clone(), id2.clone()]));
    let one = app.get_ok(&format!("{list_path}/{id1}"), None).await;
    assert_eq!(one, m1);

    expect_status(
        app.delete(&format!("{list_path}/{id1}"), Some(&token))
            .await,
        204,
    )
    .await;
    assert_problem(
        app.get_auth(&format!("{list_path}/{id1}"), None).await,
        404,
        "not_found",
    )
    .await;
    let after = app.get_ok(&list_path, None).await;
    assert_eq!(ids(&after), vec![id2.clone()]);
    // The movie itself still exists.
    app.get_ok(&format!("/movies/{id1}"), None).await;

    let admin = app.admin_token().await;
    let res = app
        .post_json(&list_path, Some(&admin), json!({"movie_ids": [id1]}))
        .await;
    assert_eq!(
        expect_json(res, 200).await["items"]
            .as_array()
            .expect("items")
            .len(),
        2
    );
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn the_now_showing_list_rejects_unknown_movies_and_strangers(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let (_, a) = app.approved_owner("Alpha").await;
    let (_, b) = app.approved_owner("Beta").await;
    let (_, customer) = app.customer("Cust").await;
    let chain_a = app.chain(&a, "A").await;
    let _chain_b = app.chain(&b, "B").await;
    let theatre = app.theatre(&a, &chain_a).await;
    let movie = app.movie(&a).await;
    let list_path = format!("/theatres/{theatre}/movies");

    let res = app
        .post_json(
            &list_path,
            Some(&a),
            json!({"movie_ids": [movie, uuid::Uuid::now_v7()]}),
        )
        .await;
    assert_problem(res, 422, "validation_failed").await;
    assert_eq!(app.get_ok(&list_path, None).await["items"], json!([]));

    assert_invalid(
        app.post_json(&list_path, Some(&a), json!({})).await,
        "movie_ids",
    )
    .await;
    assert_problem(
        app.post_json(&list_path, Some(&a), json!({"movie_ids": movie}))
            .await,
        400,
        "bad_request",
    )
    .await;

    let body = json!({"movie_ids": [movie]});
    assert_problem(
        app.post_json(&list_path, None, body.clone()).await,
        401,
        "unauthorized",
    )
    .await;
    assert_problem(
        app.post_json(&list_path, Some(&customer), body.clone())
            .await,
        403,
        "forbidden",
    )
    .await;
    assert_problem(
        app.post_json(&list_path, Some(&b), body.clone()).await,
        404,
        "not_found",
    )
    .await;
    app.now_showing(&a, &theatre, &movie).await;
    let one = format!("{list_path}/{movie}");
    assert_problem(app.delete(&one, None).await, 401, "unauthorized").await;
    assert_problem(app.delete(&one, Some(&b)).await, 404, "not_found").await;
    app.get_ok(&one, None).await;

    let unknown_theatre = format!("/theatres/{}/movies", uuid::Uuid::now_v7());
    assert_problem(app.get_auth(&unknown_theatre, None).await, 404, "not_found").await;
    assert_problem(
        app.post_json(&unknown_theatre, Some(&a), body).await,
        404,
        "not_found",
    )
    .await;
    assert_problem(
        app.get_auth(&format!("{list_path}/not-a-uuid"), None).await,
        400,
        "bad_request",
    )
    .await;
    app.stop().await;
}
