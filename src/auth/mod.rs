//! Who is asking and what they may do: users, roles, sessions and CSRF.

pub mod roles;
