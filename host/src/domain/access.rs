//! Who may act as what. Every admin or staff check asks these, so that an account's status
//! counts everywhere: a pending or rejected account keeps its role in the database but none
//! of its powers (issue 13).

use crate::db::users::{Role, Status, User};

/// An approved admin. An account whose role is `admin` but whose status is pending or
/// rejected is not one.
pub fn is_admin(user: &User) -> bool {
    user.role == Role::Admin && user.status == Status::Approved
}

/// An approved owner: chain staff, whose chains are checked per resource.
pub fn is_owner(user: &User) -> bool {
    user.role == Role::Owner && user.status == Status::Approved
}

/// Chain staff: an approved owner or an approved admin.
pub fn is_staff(user: &User) -> bool {
    is_admin(user) || is_owner(user)
}

/// Whether the account may sign in at all (asked only once its password was verified): every
/// account but a rejected one. A pending owner signs in to see its status.
pub fn may_sign_in(user: &User) -> bool {
    user.status != Status::Rejected
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(role: Role, status: Status) -> User {
        User {
            id: uuid::Uuid::now_v7(),
            name: "x".into(),
            email: "x@example.com".into(),
            role,
            status,
            token_version: 0,
            created_at: chrono::Utc::now(),
        }
    }

    #[test]
    fn only_approved_accounts_have_their_roles_powers() {
        for status in [Status::Pending, Status::Rejected] {
            assert!(!is_admin(&user(Role::Admin, status)));
            assert!(!is_staff(&user(Role::Admin, status)));
            assert!(!is_owner(&user(Role::Owner, status)));
            assert!(!is_staff(&user(Role::Owner, status)));
        }
        assert!(is_admin(&user(Role::Admin, Status::Approved)));
        assert!(is_staff(&user(Role::Admin, Status::Approved)));
        assert!(is_staff(&user(Role::Owner, Status::Approved)));
        assert!(!is_admin(&user(Role::Owner, Status::Approved)));
        assert!(!is_staff(&user(Role::Customer, Status::Approved)));
        assert!(may_sign_in(&user(Role::Owner, Status::Pending)));
        assert!(!may_sign_in(&user(Role::Customer, Status::Rejected)));
        assert!(!may_sign_in(&user(Role::Admin, Status::Rejected)));
    }
}
