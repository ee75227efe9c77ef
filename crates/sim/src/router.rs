//! The router: the only module that knows every handler. A request goes to its face's
//! service (admin, identity), or, on the site and gateway, through the pipeline in `api` to the
//! v1 or v2 handler (or search, or a special endpoint) that its method and path match.

use crate::api::{self, Matched, Special};
use crate::handler::Handler;
use crate::http::{Face, Req, Resp};
use crate::scopes::best_match;
use crate::state::{Shared, State};
use crate::{admin, analytics, copy, identity, people, restrict, search, templates, v1, v2};

/// The implemented site and gateway operations, v2 first. A path no row matches is still
/// checked against the scope table (to answer 501 rather than 404).
const ROUTES: &[(&str, &str, Handler)] = &[
    ("GET", "/wiki/api/v2/spaces", v2::list_spaces),
    ("GET", "/wiki/api/v2/spaces/{id}", v2::get_space),
    ("GET", "/wiki/api/v2/spaces/{id}/pages", v2::space_pages),
    (
        "GET",
        "/wiki/api/v2/spaces/{id}/permissions",
        v2::space_permissions,
    ),
    ("GET", "/wiki/api/v2/pages", v2::list_pages),
    ("POST", "/wiki/api/v2/pages", v2::create_page),
    ("GET", "/wiki/api/v2/pages/{id}", v2::get_page),
    ("PUT", "/wiki/api/v2/pages/{id}", v2::update_page),
    ("DELETE", "/wiki/api/v2/pages/{id}", v2::delete_page),
    ("GET", "/wiki/api/v2/pages/{id}/versions", v2::page_versions),
    (
        "GET",
        "/wiki/api/v2/pages/{page-id}/versions/{version-number}",
        v2::page_version,
    ),
    ("GET", "/wiki/api/v2/pages/{id}/labels", v2::page_labels),
    ("GET", "/wiki/api/v2/labels", v2::all_labels),
    (
        "GET",
        "/wiki/api/v2/pages/{page-id}/properties",
        v2::list_properties,
    ),
    (
        "POST",
        "/wiki/api/v2/pages/{page-id}/properties",
        v2::create_property,
    ),
    (
        "GET",
        "/wiki/api/v2/pages/{page-id}/properties/{property-id}",
        v2::get_property,
    ),
    (
        "PUT",
        "/wiki/api/v2/pages/{page-id}/properties/{property-id}",
        v2::update_property,
    ),
    (
        "DELETE",
        "/wiki/api/v2/pages/{page-id}/properties/{property-id}",
        v2::delete_property,
    ),
    (
        "GET",
        "/wiki/api/v2/blogposts/{blogpost-id}/properties",
        v2::list_properties,
    ),
    (
        "POST",
        "/wiki/api/v2/blogposts/{blogpost-id}/properties",
        v2::create_property,
    ),
    (
        "GET",
        "/wiki/api/v2/blogposts/{blogpost-id}/properties/{property-id}",
        v2::get_property,
    ),
    (
        "PUT",
        "/wiki/api/v2/blogposts/{blogpost-id}/properties/{property-id}",
        v2::update_property,
    ),
    (
        "DELETE",
        "/wiki/api/v2/blogposts/{blogpost-id}/properties/{property-id}",
        v2::delete_property,
    ),
    // Blog posts: the page handlers, which read the kind from the path.
    ("GET", "/wiki/api/v2/blogposts", v2::list_pages),
    ("POST", "/wiki/api/v2/blogposts", v2::create_page),
    ("GET", "/wiki/api/v2/blogposts/{id}", v2::get_page),
    ("PUT", "/wiki/api/v2/blogposts/{id}", v2::update_page),
    ("DELETE", "/wiki/api/v2/blogposts/{id}", v2::delete_page),
    ("GET", "/wiki/api/v2/spaces/{id}/blogposts", v2::space_pages),
    ("GET", "/wiki/api/v2/blogposts/{id}/labels", v2::page_labels),
    (
        "GET",
        "/wiki/api/v2/blogposts/{id}/attachments",
        v2::page_attachments,
    ),
    (
        "GET",
        "/wiki/api/v2/blogposts/{id}/footer-comments",
        v2::page_footer_comments,
    ),
    (
        "GET",
        "/wiki/api/v2/blogposts/{id}/inline-comments",
        v2::page_inline_comments,
    ),
    (
        "GET",
        "/wiki/api/v2/blogposts/{id}/versions",
        v2::page_versions,
    ),
    (
        "GET",
        "/wiki/api/v2/pages/{id}/attachments",
        v2::page_attachments,
    ),
    (
        "GET",
        "/wiki/api/v2/pages/{id}/footer-comments",
        v2::page_footer_comments,
    ),
    (
        "GET",
        "/wiki/api/v2/pages/{id}/inline-comments",
        v2::page_inline_comments,
    ),
    ("GET", "/wiki/api/v2/pages/{id}/children", v2::page_children),
    (
        "GET",
        "/wiki/api/v2/pages/{id}/direct-children",
        v2::direct_children,
    ),
    ("GET", "/wiki/api/v2/pages/{id}/ancestors", v2::ancestors),
    (
        "GET",
        "/wiki/api/v2/pages/{id}/descendants",
        v2::descendants,
    ),
    (
        "POST",
        "/wiki/api/v2/footer-comments",
        v2::create_footer_comment,
    ),
    (
        "GET",
        "/wiki/api/v2/footer-comments/{comment-id}",
        v2::get_footer_comment,
    ),
    (
        "DELETE",
        "/wiki/api/v2/footer-comments/{comment-id}",
        v2::delete_footer_comment,
    ),
    (
        "PUT",
        "/wiki/api/v2/footer-comments/{comment-id}",
        v2::update_footer_comment,
    ),
    (
        "POST",
        "/wiki/api/v2/inline-comments",
        v2::create_inline_comment,
    ),
    (
        "PUT",
        "/wiki/api/v2/inline-comments/{comment-id}",
        v2::update_inline_comment,
    ),
    (
        "DELETE",
        "/wiki/api/v2/inline-comments/{comment-id}",
        v2::delete_inline_comment,
    ),
    (
        "GET",
        "/wiki/api/v2/footer-comments/{id}/children",
        v2::footer_comment_children,
    ),
    (
        "GET",
        "/wiki/api/v2/inline-comments/{comment-id}",
        v2::get_inline_comment,
    ),
    (
        "GET",
        "/wiki/api/v2/inline-comments/{id}/children",
        v2::inline_comment_children,
    ),
    ("GET", "/wiki/api/v2/attachments", v2::all_attachments),
    ("GET", "/wiki/api/v2/attachments/{id}", v2::get_attachment),
    (
        "DELETE",
        "/wiki/api/v2/attachments/{id}",
        v2::delete_attachment,
    ),
    ("POST", "/wiki/api/v2/folders", v2::create_folder),
    ("GET", "/wiki/api/v2/folders/{id}", v2::get_folder),
    ("DELETE", "/wiki/api/v2/folders/{id}", v2::delete_folder),
    (
        "GET",
        "/wiki/api/v2/folders/{id}/direct-children",
        v2::direct_children,
    ),
    ("GET", "/wiki/api/v2/folders/{id}/ancestors", v2::ancestors),
    (
        "GET",
        "/wiki/api/v2/folders/{id}/descendants",
        v2::descendants,
    ),
    ("POST", "/wiki/api/v2/databases", v2::create_database),
    ("GET", "/wiki/api/v2/databases/{id}", v2::get_database),
    ("DELETE", "/wiki/api/v2/databases/{id}", v2::delete_database),
    (
        "GET",
        "/wiki/api/v2/databases/{id}/direct-children",
        v2::direct_children,
    ),
    (
        "GET",
        "/wiki/api/v2/databases/{id}/ancestors",
        v2::ancestors,
    ),
    ("POST", "/wiki/api/v2/users-bulk", v2::users_bulk),
    ("GET", "/wiki/rest/api/content", v1::list_content),
    ("POST", "/wiki/rest/api/content", v1::create_content),
    (
        "GET",
        "/wiki/rest/api/content/search",
        search::content_search,
    ),
    ("GET", "/wiki/rest/api/content/{id}", v1::get_content),
    ("PUT", "/wiki/rest/api/content/{id}", v1::update_content),
    ("DELETE", "/wiki/rest/api/content/{id}", v1::delete_content),
    (
        "GET",
        "/wiki/rest/api/content/{id}/history",
        v1::content_history,
    ),
    (
        "PUT",
        "/wiki/rest/api/content/{pageId}/move/{position}/{targetId}",
        v1::move_page,
    ),
    (
        "GET",
        "/wiki/rest/api/content/{id}/child/{type}",
        v1::children_of_type,
    ),
    (
        "GET",
        "/wiki/rest/api/content/{id}/child/attachment",
        v1::list_attachments,
    ),
    (
        "POST",
        "/wiki/rest/api/content/{id}/child/attachment",
        v1::upload_attachments,
    ),
    (
        "PUT",
        "/wiki/rest/api/content/{id}/child/attachment",
        v1::upload_attachments,
    ),
    (
        "POST",
        "/wiki/rest/api/content/{id}/child/attachment/{attachmentId}/data",
        v1::update_attachment_data,
    ),
    (
        "GET",
        "/wiki/rest/api/content/{id}/child/attachment/{attachmentId}/download",
        v1::download_attachment,
    ),
    (
        "GET",
        "/wiki/rest/api/content/{id}/descendant/{type}",
        v1::descendants_of_type,
    ),
    (
        "GET",
        "/wiki/rest/api/content/{id}/property",
        v1::list_properties,
    ),
    (
        "POST",
        "/wiki/rest/api/content/{id}/property",
        v1::create_property,
    ),
    (
        "GET",
        "/wiki/rest/api/content/{id}/property/{key}",
        v1::get_property,
    ),
    (
        "PUT",
        "/wiki/rest/api/content/{id}/property/{key}",
        v1::update_property,
    ),
    (
        "POST",
        "/wiki/rest/api/content/{id}/property/{key}",
        v1::create_property,
    ),
    (
        "DELETE",
        "/wiki/rest/api/content/{id}/property/{key}",
        v1::delete_property,
    ),
    (
        "GET",
        "/wiki/rest/api/content/{id}/restriction",
        restrict::get_restrictions,
    ),
    (
        "PUT",
        "/wiki/rest/api/content/{id}/restriction",
        restrict::update_restrictions,
    ),
    (
        "POST",
        "/wiki/rest/api/content/{id}/restriction",
        restrict::add_restrictions,
    ),
    (
        "DELETE",
        "/wiki/rest/api/content/{id}/restriction",
        restrict::delete_restrictions,
    ),
    (
        "GET",
        "/wiki/rest/api/content/{id}/restriction/byOperation",
        restrict::restrictions_by_operation,
    ),
    (
        "GET",
        "/wiki/rest/api/content/{id}/restriction/byOperation/{operationKey}",
        restrict::restrictions_for_operation,
    ),
    (
        "POST",
        "/wiki/rest/api/content/{id}/permission/check",
        restrict::check_permission,
    ),
    ("POST", "/wiki/rest/api/content/{id}/copy", copy::copy_page),
    (
        "POST",
        "/wiki/rest/api/content/{id}/pagehierarchy/copy",
        copy::copy_hierarchy,
    ),
    ("GET", "/wiki/rest/api/longtask/{id}", copy::get_task),
    ("GET", "/wiki/rest/api/content/{id}/label", v1::get_labels),
    ("POST", "/wiki/rest/api/content/{id}/label", v1::add_labels),
    (
        "DELETE",
        "/wiki/rest/api/content/{id}/label",
        v1::remove_label_by_query,
    ),
    (
        "DELETE",
        "/wiki/rest/api/content/{id}/label/{label}",
        v1::remove_label,
    ),
    ("GET", "/wiki/rest/api/search", search::search_all),
    ("GET", "/wiki/rest/api/user/current", v1::current_user),
    ("GET", "/wiki/rest/api/search/user", people::search_user),
    ("GET", "/wiki/rest/api/group/picker", people::group_picker),
    ("GET", "/wiki/rest/api/user", v1::get_user),
    ("GET", "/wiki/rest/api/group", v1::list_groups),
    ("GET", "/wiki/rest/api/group/member", v1::group_members),
    (
        "GET",
        "/wiki/rest/api/group/{groupId}/membersByGroupId",
        v1::group_members_by_id,
    ),
    (
        "GET",
        "/wiki/rest/api/template/page",
        templates::list_templates,
    ),
    (
        "GET",
        "/wiki/rest/api/template/blueprint",
        templates::list_blueprints,
    ),
    (
        "GET",
        "/wiki/rest/api/template/{contentTemplateId}",
        templates::get_template,
    ),
    (
        "GET",
        "/wiki/rest/api/analytics/content/{contentId}/views",
        analytics::views,
    ),
    (
        "GET",
        "/wiki/rest/api/analytics/content/{contentId}/viewers",
        analytics::viewers,
    ),
    ("GET", "/wiki/rest/api/space", v1::list_spaces),
    ("GET", "/wiki/rest/api/space/{spaceKey}", v1::get_space),
];

/// Endpoints outside the scope table (see [`Special`]).
const SPECIALS: &[(&str, &str, Special)] = &[
    (
        "GET",
        "/wiki/api/v2/databases/{id}/entries",
        Special::DatabaseRows,
    ),
    (
        "GET",
        "/wiki/api/v2/databases/{id}/content",
        Special::DatabaseRows,
    ),
    (
        "GET",
        "/wiki/api/v2/databases/{id}/children",
        Special::DatabaseRows,
    ),
    (
        "GET",
        "/wiki/api/v2/databases/{id}/export",
        Special::DatabaseRows,
    ),
    (
        "GET",
        "/wiki/download/attachments/{pageId}/{filename}",
        Special::DownloadServlet(v1::download_servlet),
    ),
    (
        "GET",
        "/wiki/sim/media/{attachmentId}/{filename}",
        Special::Media(v1::media),
    ),
    ("GET", "/_edge/tenant_info", Special::TenantInfo),
];

/// Answers one request on any face.
pub(crate) fn answer(shared: &Shared, req: &Req) -> Resp {
    match req.face {
        Face::Admin => admin::handle(shared, req),
        Face::Identity => identity::handle(shared, req),
        Face::Site | Face::Gateway => {
            let mut st = shared.lock();
            api::rate_limited(&mut st, req, |st| site(shared, st, req))
        }
    }
}

fn site(shared: &Shared, st: &mut State, req: &Req) -> Resp {
    if req.face == Face::Gateway
        && req.prefix.is_empty()
        && req.path == "/oauth/token/accessible-resources"
    {
        return identity::accessible_resources(shared, st, req);
    }
    let method = req.method.as_str();
    let matched = Matched {
        special: best_match(
            SPECIALS
                .iter()
                .filter(|s| s.0 == method)
                .map(|s| (s.1, s.2)),
            &req.path,
        ),
        route: best_match(
            ROUTES.iter().filter(|r| r.0 == method).map(|r| (r.1, r.2)),
            &req.path,
        ),
    };
    api::handle(shared, st, req, matched)
}
