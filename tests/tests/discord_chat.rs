//! The Discord chat adapter alone against the fake Discord: how replies,
//! announcements and edits reach the channel (splitting, coalescing,
//! nonces, threads), as the fake's REST side sees them.

use std::sync::Arc;
use std::time::Duration;

use shepherd_adapters::chat::discord::{ChannelNames, DiscordChat, DiscordSettings, Pacing};
use shepherd_adapters::chat::discord_sim::{FakeDiscord, FakeUserMessage};
use shepherd_adapters::chat::{Chat, ThreadRef};
use shepherd_tests::PATIENCE;

const TOKEN: &str = "adapter-test-token";
const GUILD: u64 = 1;
const RELEASE: u64 = 10;

/// The adapter's settings for the fake, serving `guild`, #release mapped.
fn settings(fake: &FakeDiscord, guild: u64, pacing: Pacing) -> DiscordSettings {
    DiscordSettings {
        token: TOKEN.to_string().into(),
        guilds: vec![guild],
        channels: ChannelNames::new([("release".to_string(), RELEASE)]),
        api_url: Some(fake.api_base()),
        pacing,
    }
}

async fn connect(pacing: Pacing) -> (FakeDiscord, Arc<DiscordChat>) {
    let fake = FakeDiscord::start(TOKEN).await.expect("fake Discord");
    fake.add_text_channel(GUILD, RELEASE, "release");
    let settings = settings(&fake, GUILD, pacing);
    let render = Arc::new(|_: &_| None);
    let chat = DiscordChat::connect(settings, &[], render)
        .await
        .expect("connects");
    (fake, Arc::new(chat))
}

/// A person's message in #release, read by the bot: the thread to answer in.
async fn request(fake: &FakeDiscord, chat: &DiscordChat, text: &str) -> ThreadRef {
    fake.send_message(FakeUserMessage {
        guild_id: Some(GUILD),
        channel_id: RELEASE,
        content: text.into(),
        ..FakeUserMessage::default()
    });
    let m = tokio::time::timeout(PATIENCE, chat.next_message())
        .await
        .expect("read in time")
        .expect("chat open");
    ThreadRef {
        channel: m.channel,
        thread: m.thread,
    }
}

#[tokio::test]
async fn a_5000_character_reply_arrives_as_three_messages_with_code_blocks_intact() {
    let (fake, chat) = connect(Pacing::default()).await;
    let to = request(&fake, &chat, "!retry --all hello").await;
    assert_eq!(to.channel, "#release");
    let mut text = String::from("60 retries:\n```\n");
    let mut n = 0;
    while text.len() < 4980 {
        n += 1;
        text.push_str(&format!(
            "https://autopkgtest.ubuntu.com/request.cgi?release=noble&arch=amd64&package=p{n}\n"
        ));
    }
    text.push_str("```");
    chat.reply(&to, &text).await.expect("sent");
    let thread: u64 = to.thread.parse().expect("an id");
    let sent = fake.bot_messages(thread);
    assert_eq!(sent.len(), 3, "{sent:#?}");
    for m in &sent {
        assert!(m.content.chars().count() <= 2000);
        let fences = m.content.lines().filter(|l| l.starts_with("```")).count();
        assert_eq!(
            fences, 2,
            "each message opens and closes its block:\n{}",
            m.content
        );
    }
    let urls: usize = sent
        .iter()
        .map(|m| m.content.matches("https://").count())
        .sum();
    assert_eq!(urls, n, "every line arrived once");
    assert_eq!(
        fake.threads(),
        [(RELEASE, thread)],
        "one thread, started from the request"
    );
    let name = fake
        .requests()
        .into_iter()
        .find(|r| r.path.ends_with("/threads"))
        .and_then(|r| r.body)
        .expect("thread request");
    assert_eq!(
        name["name"], "!retry --all hello",
        "the thread is named after the request"
    );
}

#[tokio::test]
async fn fifty_announcements_in_a_second_arrive_as_at_most_three_messages() {
    let (fake, chat) = connect(Pacing::default()).await;
    let mut sends = Vec::new();
    for i in 0..50 {
        let chat = chat.clone();
        sends.push(tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(i * 20)).await;
            chat.send("#release", &format!("✅ package-{i:02} migrated to noble"))
                .await
                .expect("sent")
        }));
    }
    for s in sends {
        s.await.expect("send task");
    }
    let sent = fake.bot_messages(RELEASE);
    assert!(sent.len() <= 3, "{} messages: {sent:#?}", sent.len());
    let lines: Vec<String> = sent
        .iter()
        .flat_map(|m| m.content.lines().map(str::to_string).collect::<Vec<_>>())
        .collect();
    let expected: Vec<String> = (0..50)
        .map(|i| format!("✅ package-{i:02} migrated to noble"))
        .collect();
    assert_eq!(lines, expected, "all fifty, in order, once");
}

#[tokio::test]
async fn a_resent_post_with_the_same_nonce_appears_once() {
    let (fake, chat) = connect(Pacing {
        gap: Duration::from_millis(10),
        ..Pacing::default()
    })
    .await;
    let a = chat
        .post_once("#release", None, "✅ hello migrated", "0123456789abcdef")
        .await
        .expect("sent");
    let b = chat
        .post_once("#release", None, "✅ hello migrated", "0123456789abcdef")
        .await
        .expect("sent");
    assert_eq!(
        a.id, b.id,
        "Discord answered the second post with the first message"
    );
    assert_eq!(fake.bot_messages(RELEASE).len(), 1);
}

#[tokio::test]
async fn progress_is_one_message_edited_in_place_and_threads_are_reused() {
    let (fake, chat) = connect(Pacing {
        gap: Duration::from_millis(10),
        ..Pacing::default()
    })
    .await;
    let to = request(&fake, &chat, "!bugs release maas 3.6.0").await;
    let progress = chat.reply(&to, "plan #3: ░░░░░ 0/40").await.expect("sent");
    for done in [10, 20, 30, 40] {
        chat.edit(&progress, &format!("plan #3: {done}/40"))
            .await
            .expect("edited");
    }
    chat.reply(&to, "plan #3 · ▰ 1/1 — done ✓")
        .await
        .expect("sent");
    let thread: u64 = to.thread.parse().expect("an id");
    let sent = fake.bot_messages(thread);
    assert_eq!(sent.len(), 2, "{sent:#?}");
    assert_eq!(sent[0].content, "plan #3: 40/40");
    assert!(
        !sent[0].edits.is_empty() && sent[0].edits.len() <= 4,
        "{:?}",
        sent[0].edits
    );
    assert_eq!(
        fake.threads().len(),
        1,
        "the second reply used the same thread"
    );
    // A message said inside that thread is answered there.
    fake.send_message(FakeUserMessage {
        guild_id: Some(GUILD),
        channel_id: thread,
        content: "!show 3".into(),
        ..FakeUserMessage::default()
    });
    let m = tokio::time::timeout(PATIENCE, chat.next_message())
        .await
        .expect("in time")
        .expect("open");
    assert_eq!(
        (m.channel.as_str(), m.thread.as_str()),
        ("#release", to.thread.as_str())
    );
    let to = ThreadRef {
        channel: m.channel,
        thread: m.thread,
    };
    chat.reply(&to, "plan #3: done").await.expect("sent");
    assert_eq!(fake.bot_messages(thread).len(), 3);
    assert_eq!(fake.threads().len(), 1, "no thread started from a thread");
}

#[tokio::test]
async fn after_a_restart_a_reply_finds_its_thread() {
    let (fake, chat) = connect(Pacing::default()).await;
    let to = request(&fake, &chat, "!rebuild maas").await;
    chat.reply(&to, "plan #9: building").await.expect("sent");
    let thread: u64 = to.thread.parse().expect("an id");
    // A second adapter knows nothing of the first's threads, as after a restart.
    let again = DiscordChat::connect(
        settings(&fake, GUILD, Pacing::default()),
        &[],
        Arc::new(|_: &_| None),
    )
    .await
    .expect("connects");
    again.reply(&to, "plan #9: built ✓").await.expect("sent");
    let sent: Vec<String> = fake
        .bot_messages(thread)
        .into_iter()
        .map(|m| m.content)
        .collect();
    assert_eq!(sent, ["plan #9: building", "plan #9: built ✓"]);
    assert_eq!(fake.threads().len(), 1);
}

#[tokio::test]
async fn a_guild_the_bot_is_not_in_is_an_error_at_connect() {
    let fake = FakeDiscord::start(TOKEN).await.expect("fake Discord");
    let settings = settings(&fake, 404, Pacing::default());
    let Err(e) = DiscordChat::connect(settings, &[], Arc::new(|_: &_| None)).await else {
        panic!("connected to a guild it is not in");
    };
    let text = e.to_string();
    assert!(
        text.contains("cannot register slash commands in guild 404"),
        "{text}"
    );
    assert!(text.contains("applications.commands"), "{text}");
    assert_eq!(fake.gateway_connections(), 0);
}
