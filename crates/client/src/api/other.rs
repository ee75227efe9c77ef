use conflux_catalog::Operation;
use conflux_types::PageId;
use serde_json::json;

use crate::Client;
use crate::api::pages::outcome_unknown;
use crate::error::{ClientError, Result};
use crate::models::{Container, Group, ListEnvelope, User};
use crate::paging::{Page, PageRequest};
use crate::retry::Backoff;
use crate::transport::Call;

/// `client.databases()`: database metadata (v2). Cloud has no public API for database rows.
pub struct Databases<'a> {
    pub(crate) client: &'a Client,
}

impl Databases<'_> {
    pub async fn create(
        &self,
        space_id: &str,
        title: &str,
        parent_id: Option<&str>,
    ) -> Result<Container> {
        create_container(
            self.client,
            Operation::CreateDatabase,
            space_id,
            title,
            parent_id,
        )
        .await
    }
    pub async fn get(&self, id: &str) -> Result<Container> {
        self.client
            .json(Call::new(Operation::GetDatabaseById, &[("id", id)])?)
            .await
    }
    pub async fn delete(&self, id: &str) -> Result<()> {
        self.client
            .send(&Call::new(Operation::DeleteDatabase, &[("id", id)])?)
            .await
            .map(|_| ())
    }
}

/// `client.folders()`: folders in the page tree (v2).
pub struct Folders<'a> {
    pub(crate) client: &'a Client,
}

impl Folders<'_> {
    pub async fn create(
        &self,
        space_id: &str,
        title: &str,
        parent_id: Option<&str>,
    ) -> Result<Container> {
        create_container(
            self.client,
            Operation::CreateFolder,
            space_id,
            title,
            parent_id,
        )
        .await
    }
    pub async fn get(&self, id: &str) -> Result<Container> {
        self.client
            .json(Call::new(Operation::GetFolderById, &[("id", id)])?)
            .await
    }
}

async fn create_container(
    client: &Client,
    op: Operation,
    space_id: &str,
    title: &str,
    parent_id: Option<&str>,
) -> Result<Container> {
    if title.trim().is_empty() || space_id.trim().is_empty() {
        return Err(ClientError::InvalidInput(
            "`spaceId` and `title` are required".into(),
        ));
    }
    let mut body = json!({ "spaceId": space_id, "title": title });
    if let Some(p) = parent_id {
        body["parentId"] = json!(p);
    }
    let call = Call::new(op, &[])?.json(body);
    let (kind, get) = match op {
        Operation::CreateDatabase => ("database", Operation::GetDatabaseById),
        _ => ("folder", Operation::GetFolderById),
    };
    let mut backoff = Backoff::new(&client.config().retry);
    loop {
        backoff.attempt();
        let error = match client.json::<Container>(call.clone()).await {
            Ok(c) => return Ok(c),
            Err(e) if outcome_unknown(&e) => e,
            Err(e) => return Err(e),
        };
        // Lost answer or 5xx: under a page, its direct children tell whether it exists; at the
        // top of a space no listing can (v2 lists neither folders nor databases by space).
        let unknown = || ClientError::OutcomeUnknown {
            message: format!("creating {kind} {title:?}: {error}"),
            check: format!("the space's tree for a {kind} titled {title:?}"),
        };
        let Some(parent) = parent_id else {
            return Err(unknown());
        };
        let children = match client
            .content()
            .direct_children(PageId::new(parent), &PageRequest::limit(250))
            .await
        {
            Ok(c) => c,
            Err(_) => return Err(unknown()),
        };
        if let Some(found) = children
            .results
            .iter()
            .find(|c| c.content_type == kind && c.title == title)
        {
            return client
                .json(Call::new(get, &[("id", found.id.as_str())])?)
                .await;
        }
        match backoff.next_wait(None) {
            Some(wait) => tokio::time::sleep(wait).await,
            None => return Err(unknown()),
        }
    }
}

/// `client.users()`.
pub struct Users<'a> {
    pub(crate) client: &'a Client,
}

impl Users<'_> {
    /// The account the credential acts as (v1).
    pub async fn current(&self) -> Result<User> {
        self.client
            .json(Call::new(Operation::GetCurrentUser, &[])?)
            .await
    }

    /// One user by account id (v1).
    pub async fn get(&self, account_id: &str) -> Result<User> {
        let call = Call::new(Operation::GetUser, &[])?.query("accountId", account_id);
        self.client.json(call).await
    }

    /// The site's groups (v1; v2 has no group API).
    pub async fn groups(&self, page: &PageRequest) -> Result<Page<Group>> {
        self.client
            .list(Call::new(Operation::GetGroups, &[])?, page)
            .await
    }

    /// A group's members: by id where the API gateway serves it, by name on the site (the
    /// by-name call is deprecated and retired on the gateway).
    pub async fn group_members(&self, group: &Group, page: &PageRequest) -> Result<Page<User>> {
        self.client
            .with_fallback(super::candidates::GROUP_MEMBERS, |op| async move {
                let call = if op == Operation::GetGroupMembersByGroupId {
                    Call::new(op, &[("groupId", group.id.as_str())])?
                } else {
                    Call::new(op, &[])?.query("name", &group.name)
                };
                self.client.list(call, page).await
            })
            .await
    }

    /// Users a user CQL query matches (v1 `/search/user`; it takes the user fields only:
    /// `user`, `user.accountid`, `user.fullname`, `type = user`). `guests`: `None` the
    /// licensed users (Cloud's default), `Some(true)` guests only, `Some(false)` everyone.
    pub async fn search(
        &self,
        cql: &str,
        guests: Option<bool>,
        page: &PageRequest,
    ) -> Result<Page<User>> {
        if cql.trim().is_empty() {
            return Err(ClientError::InvalidInput("give a user CQL query".into()));
        }
        let filter = match guests {
            None => None,
            Some(true) => Some("externalCollaborator"),
            Some(false) => Some("all"),
        };
        let call = Call::new(Operation::SearchUser, &[])?
            .query("cql", cql)
            .query_opt("sitePermissionTypeFilter", filter);
        let hits: Page<UserHit> = self.client.list(call, page).await?;
        Ok(Page {
            results: hits.results.into_iter().filter_map(|h| h.user).collect(),
            next_cursor: hits.next_cursor,
        })
    }

    /// Users whose display name matches `name` (`user.fullname ~ "name"`).
    pub async fn search_by_name(&self, name: &str, page: &PageRequest) -> Result<Page<User>> {
        let name = name.trim();
        if name.is_empty() {
            return Err(ClientError::InvalidInput("give a name to look for".into()));
        }
        let escaped = name.replace('\\', "\\\\").replace('"', "\\\"");
        self.search(&format!("user.fullname ~ \"{escaped}\""), None, page)
            .await
    }

    /// Users by account id (v2 `users-bulk`, 250 ids a request; more are sent in several).
    /// Ids Confluence does not know are left out.
    pub async fn bulk(&self, account_ids: &[String]) -> Result<Vec<User>> {
        let mut out = Vec::new();
        for chunk in account_ids.chunks(250) {
            let call = Call::new(Operation::CreateBulkUserLookup, &[])?
                .json(json!({ "accountIds": chunk }));
            let env: ListEnvelope<User> = self.client.json(call).await?;
            out.extend(env.results);
        }
        Ok(out)
    }

    /// Groups whose name contains `query` (v1 group picker).
    pub async fn group_picker(&self, query: &str, page: &PageRequest) -> Result<Page<Group>> {
        let call = Call::new(Operation::SearchGroups, &[])?.query("query", query);
        self.client.list(call, page).await
    }
}

/// One result of a user search: the user it found.
#[derive(serde::Deserialize)]
struct UserHit {
    #[serde(default)]
    user: Option<User>,
}
