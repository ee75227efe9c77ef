//! The state a simulator starts from: a [`Fixture`] read into [`State`], with the demo
//! credentials, fixed dates and the ids that come after the fixture's.

use std::collections::{BTreeMap, HashMap};

use base64::Engine as _;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::*;
use crate::config::SimConfig;
use crate::fixture::Fixture;
use crate::scopes::ScopeTable;

impl State {
    pub fn new(config: &SimConfig, scopes: &ScopeTable) -> State {
        let fx: &Fixture = &config.fixture;
        let mut rng = StdRng::seed_from_u64(config.seed);
        let cloud_id = fx.site.cloud_id.clone().unwrap_or_else(|| {
            let bytes: [u8; 16] = rng.random();
            uuid::Builder::from_random_bytes(bytes)
                .into_uuid()
                .to_string()
        });
        // Fixed dates: 2024-01-01 plus a seed-derived day, one hour apart per object.
        let base_ms = 1_704_067_200_000 + (config.seed % 365) as i64 * 86_400_000;
        let mut tick = 0i64;
        let mut next_date = || {
            tick += 1;
            base_ms + tick * 3_600_000
        };

        let mut users: Vec<User> = fx
            .users
            .iter()
            .map(|u| User {
                account_id: u.account_id.clone(),
                email: u.email.clone(),
                display_name: u.display_name.clone(),
                groups: u.groups.clone(),
                guest: u.guest,
                site_admin: u.site_admin,
                disabled: fx.disabled_users.contains(&u.account_id),
            })
            .collect();
        let outsiders: Vec<User> = fx
            .outside_accounts
            .iter()
            .map(|a| User {
                account_id: a.account_id.clone(),
                email: a.email.clone(),
                display_name: a.display_name.clone(),
                groups: vec![],
                guest: false,
                site_admin: false,
                disabled: fx.disabled_users.contains(&a.account_id),
            })
            .collect();
        if users.is_empty() {
            users.push(User {
                account_id: "557058:sim-demo-user".into(),
                email: "demo@conflux.example".into(),
                display_name: "Demo User".into(),
                groups: vec![],
                guest: false,
                site_admin: false,
                disabled: false,
            });
        }
        let mut groups: Vec<Group> = fx
            .groups
            .iter()
            .map(|g| Group {
                id: g.id.clone(),
                name: g.name.clone(),
            })
            .collect();

        let mut max_id = 0u64;
        let mut note = |id: &str| {
            if let Ok(n) = id.trim_start_matches("att").parse::<u64>() {
                max_id = max_id.max(n);
            }
        };
        fx.spaces.iter().for_each(|s| note(&s.id));
        fx.pages.iter().for_each(|p| note(&p.id));
        fx.folders.iter().for_each(|p| note(&p.id));
        fx.databases.iter().for_each(|p| note(&p.id));
        fx.comments.iter().for_each(|p| note(&p.id));
        fx.blogposts.iter().for_each(|p| note(&p.id));
        fx.attachments.iter().for_each(|p| note(&p.id));
        let mut next_id = (max_id + 1).max(1_000_000);
        for u in &users {
            for g in &u.groups {
                if !groups.iter().any(|x| &x.name == g) {
                    groups.push(Group {
                        id: format!("g-{next_id}"),
                        name: g.clone(),
                    });
                    next_id += 1;
                }
            }
        }

        let mut spaces = Vec::new();
        for s in &fx.spaces {
            let perms = s
                .permissions
                .iter()
                .map(|p| {
                    next_id += 1;
                    Perm {
                        id: next_id.to_string(),
                        principal: p.principal.clone(),
                        ops: p.operations.iter().cloned().collect(),
                    }
                })
                .collect();
            spaces.push(Space {
                id: s.id.clone(),
                key: s.key.clone(),
                name: s.name.clone(),
                description: s.description.clone(),
                space_type: s.space_type.clone(),
                status: "current".into(),
                homepage_id: s.homepage.clone(),
                author: users[0].account_id.clone(),
                created_ms: next_date(),
                perms,
            });
        }
        let space_id_of = |key: &str| {
            spaces
                .iter()
                .find(|s| s.key == key)
                .map(|s| s.id.clone())
                .unwrap_or_default()
        };

        let mut content = HashMap::new();
        let mut label_ids = BTreeMap::new();
        for (i, p) in fx.pages.iter().enumerate() {
            let created = parse_date(&p.created_at, next_date());
            let mut versions = Vec::new();
            for (n, v) in p.history.iter().enumerate() {
                versions.push(Version {
                    number: n as u32 + 1,
                    title: v.title.clone(),
                    body: v.body.clone(),
                    message: v.message.clone(),
                    author: v.author.clone().unwrap_or_else(|| p.author.clone()),
                    created_ms: parse_date(&v.created_at, created + n as i64 * 60_000),
                    minor_edit: false,
                });
            }
            let last = versions.last().map(|v| v.created_ms).unwrap_or(created);
            versions.push(Version {
                number: p.history.len() as u32 + 1,
                title: p.title.clone(),
                body: p.body.clone(),
                message: String::new(),
                author: p.author.clone(),
                created_ms: if p.history.is_empty() {
                    created
                } else {
                    last + 60_000
                },
                minor_edit: false,
            });
            for l in &p.labels {
                if !label_ids.contains_key(l) {
                    next_id += 1;
                    label_ids.insert(l.clone(), next_id.to_string());
                }
            }
            content.insert(
                p.id.clone(),
                Content {
                    id: p.id.clone(),
                    kind: Kind::Page,
                    space_id: space_id_of(&p.space),
                    status: p.status.clone(),
                    parent_id: p.parent_id.clone(),
                    page_id: None,
                    author: p.author.clone(),
                    created_ms: created,
                    versions,
                    labels: p.labels.clone(),
                    inline: None,
                    read_restrictions: vec![],
                    update_restrictions: vec![],
                    views: vec![],
                    properties: vec![],
                    position: i as i64,
                },
            );
        }
        let simple = |id: &str,
                      kind,
                      space: &str,
                      parent: &Option<String>,
                      title: &str,
                      author: &str,
                      at: i64,
                      pos| Content {
            id: id.to_string(),
            kind,
            space_id: space_id_of(space),
            status: "current".into(),
            parent_id: parent.clone(),
            page_id: None,
            author: author.to_string(),
            created_ms: at,
            versions: vec![Version {
                number: 1,
                title: title.to_string(),
                body: String::new(),
                message: String::new(),
                author: author.to_string(),
                created_ms: at,
                minor_edit: false,
            }],
            labels: vec![],
            inline: None,
            read_restrictions: vec![],
            update_restrictions: vec![],
            views: vec![],
            properties: vec![],
            position: pos,
        };
        for (i, f) in fx.folders.iter().enumerate() {
            let c = simple(
                &f.id,
                Kind::Folder,
                &f.space,
                &f.parent_id,
                &f.title,
                &f.author,
                next_date(),
                1000 + i as i64,
            );
            content.insert(f.id.clone(), c);
        }
        for (i, d) in fx.databases.iter().enumerate() {
            let c = simple(
                &d.id,
                Kind::Database,
                &d.space,
                &d.parent_id,
                &d.title,
                &d.author,
                next_date(),
                2000 + i as i64,
            );
            content.insert(d.id.clone(), c);
        }
        for (i, c) in fx.comments.iter().enumerate() {
            let at = parse_date(&c.created_at, next_date());
            let space = content
                .get(&c.page_id)
                .map(|p: &Content| p.space_id.clone())
                .unwrap_or_default();
            let inline = (c.kind == "inline").then(|| Inline {
                marker_ref: c
                    .inline_marker_ref
                    .clone()
                    .unwrap_or_else(|| format!("marker-{}", c.id)),
                selection: c.inline_original_selection.clone().unwrap_or_default(),
                resolution: c.resolution_status.clone().unwrap_or_else(|| "open".into()),
            });
            content.insert(
                c.id.clone(),
                Content {
                    id: c.id.clone(),
                    kind: if inline.is_some() {
                        Kind::InlineComment
                    } else {
                        Kind::FooterComment
                    },
                    space_id: space,
                    status: "current".into(),
                    parent_id: c.parent_comment_id.clone(),
                    page_id: Some(c.page_id.clone()),
                    author: c.author.clone(),
                    created_ms: at,
                    versions: vec![Version {
                        number: 1,
                        title: String::new(),
                        body: c.body.clone(),
                        message: String::new(),
                        author: c.author.clone(),
                        created_ms: at,
                        minor_edit: false,
                    }],
                    labels: vec![],
                    inline,
                    read_restrictions: vec![],
                    update_restrictions: vec![],
                    views: vec![],
                    properties: vec![],
                    position: i as i64,
                },
            );
        }
        for b in &fx.blogposts {
            let at = parse_date(&b.created_at, next_date());
            for l in &b.labels {
                if !label_ids.contains_key(l) {
                    next_id += 1;
                    label_ids.insert(l.clone(), next_id.to_string());
                }
            }
            let mut c = simple(
                &b.id,
                Kind::BlogPost,
                &b.space,
                &None,
                &b.title,
                &b.author,
                at,
                0,
            );
            c.versions[0].body = b.body.clone();
            c.labels = b.labels.clone();
            content.insert(b.id.clone(), c);
        }
        let templates = fx
            .templates
            .iter()
            .map(|t| Template {
                id: t.id.clone(),
                name: t.name.clone(),
                description: t.description.clone(),
                space_id: t.space.as_deref().map(space_id_of),
                body: t.body.clone(),
                labels: t.labels.clone(),
            })
            .collect();
        for r in &fx.restrictions {
            if let Some(c) = content.get_mut(&r.content_id) {
                c.read_restrictions = r.read.clone();
                c.update_restrictions = r.update.clone();
            }
        }
        let mut attachments = HashMap::new();
        for a in &fx.attachments {
            let at = parse_date(&a.created_at, next_date());
            let bytes = match (&a.text, &a.base64) {
                (Some(t), _) => t.clone().into_bytes(),
                (None, Some(b)) => base64::engine::general_purpose::STANDARD
                    .decode(b)
                    .unwrap_or_default(),
                (None, None) => Vec::new(),
            };
            attachments.insert(
                a.id.clone(),
                Attachment {
                    id: a.id.clone(),
                    page_id: a.page_id.clone(),
                    title: a.title.clone(),
                    media_type: a.media_type.clone(),
                    comment: a.comment.clone(),
                    bytes,
                    version: 1,
                    author: a.author.clone(),
                    created_ms: at,
                    modified_ms: at,
                    file_id: uuid::Builder::from_random_bytes(rng.random())
                        .into_uuid()
                        .to_string(),
                    status: "current".into(),
                },
            );
        }

        // The demo user: the demo site's, else the first active non-guest user who can read
        // every space.
        let demo_user = users
            .iter()
            .find(|u| u.email.eq_ignore_ascii_case(crate::demo::DEMO_USER_EMAIL) && !u.disabled)
            .or_else(|| {
                users.iter().find(|u| {
                    !u.disabled
                        && !u.guest
                        && spaces
                            .iter()
                            .all(|s| space_allows(s, &principals_of(Some(u)), "read"))
                })
            })
            .or_else(|| users.iter().find(|u| !u.disabled))
            .unwrap_or(&users[0])
            .clone();
        let second_account_id = second_member(&users, &spaces, &demo_user);
        let full_scopes: Vec<String> = scopes
            .granular_scopes()
            .into_iter()
            .filter(|s| {
                s.starts_with("read:") || s.starts_with("write:") || s.starts_with("delete:")
            })
            .collect();
        let read_scopes: Vec<String> = full_scopes
            .iter()
            .filter(|s| s.starts_with("read:"))
            .cloned()
            .collect();
        let demo = DemoCreds {
            account_id: demo_user.account_id.clone(),
            email: demo_user.email.clone(),
            second_account_id,
            classic: format!("cfxsim-classic-{}", random_string(&mut rng, 32)),
            scoped_full: format!("cfxsim-scoped-{}", random_string(&mut rng, 32)),
            scoped_read: format!("cfxsim-scoped-{}", random_string(&mut rng, 32)),
            full_scopes,
            read_scopes,
            client_id: random_string(&mut rng, 32),
            client_secret: random_string(&mut rng, 64),
            redirect_uris: config.demo_redirect_uris.clone(),
        };
        let mut tokens = HashMap::new();
        let tok = |kind, scopes: &[String]| Token {
            kind,
            account_id: demo.account_id.clone(),
            scopes: scopes.iter().cloned().collect(),
            expires_ms: None,
            grant_id: None,
            revoked: false,
        };
        tokens.insert(demo.classic.clone(), tok(TokenKind::Classic, &[]));
        tokens.insert(
            demo.scoped_full.clone(),
            tok(TokenKind::Scoped, &demo.full_scopes),
        );
        tokens.insert(
            demo.scoped_read.clone(),
            tok(TokenKind::Scoped, &demo.read_scopes),
        );
        let mut clients = HashMap::new();
        clients.insert(
            demo.client_id.clone(),
            Client {
                client_id: demo.client_id.clone(),
                client_secret: demo.client_secret.clone(),
                redirect_uris: demo.redirect_uris.clone(),
                name: "Conflux (simulated)".into(),
            },
        );
        for c in &fx.oauth_clients {
            clients.insert(
                c.client_id.clone(),
                Client {
                    client_id: c.client_id.clone(),
                    client_secret: c.client_secret.clone(),
                    redirect_uris: c.redirect_uris.clone(),
                    name: c.name.clone(),
                },
            );
        }
        let start = wall_ms();
        let mut state = State {
            behaviour: config.behaviour.clone(),
            faults: config.faults.clone(),
            rate: config.rate_limit.clone(),
            clock_offset_ms: 0,
            cloud_id,
            site_name: fx.site.name.clone(),
            users,
            outsiders,
            groups,
            spaces,
            content,
            attachments,
            label_ids,
            tasks: HashMap::new(),
            templates,
            tokens,
            clients,
            consents: HashMap::new(),
            codes: HashMap::new(),
            grants: HashMap::new(),
            refresh: HashMap::new(),
            next_id,
            rng,
            stats: Stats::default(),
            windows: HashMap::new(),
            demo,
        };
        for t in &fx.tokens {
            let Some(user) = state
                .account_by_email(&t.email)
                .map(|u| u.account_id.clone())
            else {
                continue;
            };
            let kind = match t.kind.as_str() {
                "scoped" => TokenKind::Scoped,
                "oauth" => TokenKind::Oauth,
                _ => TokenKind::Classic,
            };
            state.tokens.insert(
                t.token.clone(),
                Token {
                    kind,
                    account_id: user,
                    scopes: t.scopes.iter().cloned().collect(),
                    expires_ms: t.expires_in.map(|s| start + s as i64 * 1000),
                    grant_id: None,
                    revoked: false,
                },
            );
        }
        state
    }
}

fn parse_date(s: &Option<String>, fallback: i64) -> i64 {
    s.as_deref()
        .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
        .map(|d| d.timestamp_millis())
        .unwrap_or(fallback)
}

/// The second sign-in account: the active non-guest user (not the demo user) who can read the
/// most of the demo user's spaces, personal spaces aside; on a tie, someone who is not a site
/// admin, then fixture order.
fn second_member(users: &[User], spaces: &[Space], demo: &User) -> Option<String> {
    let demo_spaces: Vec<&Space> = spaces
        .iter()
        .filter(|s| s.space_type != "personal")
        .filter(|s| space_allows(s, &principals_of(Some(demo)), "read"))
        .collect();
    let mut best: Option<(&User, (usize, bool))> = None;
    for u in users
        .iter()
        .filter(|u| !u.disabled && !u.guest && u.account_id != demo.account_id)
    {
        let mine = principals_of(Some(u));
        let reads = demo_spaces
            .iter()
            .filter(|s| space_allows(s, &mine, "read"))
            .count();
        let key = (reads, !u.site_admin);
        if best.as_ref().is_none_or(|(_, k)| key > *k) {
            best = Some((u, key));
        }
    }
    best.map(|(u, _)| u.account_id.clone())
}
