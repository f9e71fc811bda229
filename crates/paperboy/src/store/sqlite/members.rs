//! Members, login links, sessions, API tokens and bans, in SQLite.

use anyhow::Context as _;
use chrono::{DateTime, Duration, Utc};
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, Sqlite, Transaction};

use super::{SqliteStore, parse_time, time_text};
use crate::domain::Submitter;
use crate::domain::member::{Member, username_from_email};
use crate::store::members::{
    ApiTokenInfo, LoginOutcome, LoginTokenState, NewSession, ProfileOutcome, SessionInfo,
};
use crate::store::{Result, StoreError};

const MEMBER_COLUMNS: &str =
    "a.account_id, a.username, a.fullname, a.email, a.is_admin, a.banned_at IS NOT NULL AS banned";

pub(super) fn member_from_row(row: &SqliteRow) -> Result<Member> {
    Ok(Member {
        account_id: row.try_get("account_id").context("account_id")?,
        username: row.try_get("username").context("username")?,
        fullname: row.try_get("fullname").context("fullname")?,
        email: row
            .try_get::<Option<String>, _>("email")
            .context("email")?
            .unwrap_or_default(),
        is_admin: row.try_get::<i64, _>("is_admin").context("is_admin")? != 0,
        banned: row.try_get::<i64, _>("banned").context("banned")? != 0,
    })
}

impl SqliteStore {
    pub async fn member_by_email(&self, email: &str) -> Result<Option<Member>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {MEMBER_COLUMNS} FROM account a WHERE a.email = ?"
        )))
        .bind(email)
        .fetch_optional(&self.reader)
        .await
        .context("reading a member by email")?;
        row.as_ref().map(member_from_row).transpose()
    }

    pub async fn profile(&self, username: &str) -> Result<Option<Submitter>> {
        let row =
            sqlx::query("SELECT username, fullname, avatar_url FROM account WHERE username = ?")
                .bind(username)
                .fetch_optional(&self.reader)
                .await
                .context("reading a profile")?;
        row.map(|row| {
            Ok(Submitter {
                username: row.try_get("username").context("username")?,
                fullname: row.try_get("fullname").context("fullname")?,
                avatar_url: row.try_get("avatar_url").context("avatar_url")?,
            })
        })
        .transpose()
    }

    pub async fn member(&self, account_id: i64) -> Result<Member> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {MEMBER_COLUMNS} FROM account a WHERE a.account_id = ?"
        )))
        .bind(account_id)
        .fetch_optional(&self.reader)
        .await
        .context("reading a member")?
        .ok_or(StoreError::NotFound)?;
        member_from_row(&row)
    }

    pub async fn members(&self, limit: u32) -> Result<Vec<Member>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {MEMBER_COLUMNS} FROM account a WHERE a.email IS NOT NULL \
             ORDER BY a.account_id DESC LIMIT ?"
        )))
        .bind(i64::from(limit))
        .fetch_all(&self.reader)
        .await
        .context("reading members")?;
        rows.iter().map(member_from_row).collect()
    }

    pub async fn ensure_member(
        &self,
        email: &str,
        admin: bool,
        now: DateTime<Utc>,
    ) -> Result<Member> {
        let mut tx = self.begin_write().await?;
        let member = ensure_member_in(&mut tx, email, now).await?;
        if admin && !member.is_admin {
            sqlx::query("UPDATE account SET is_admin = 1 WHERE account_id = ?")
                .bind(member.account_id)
                .execute(&mut *tx)
                .await
                .context("granting admin")?;
        }
        tx.commit().await.context("committing a member")?;
        Ok(Member {
            is_admin: member.is_admin || admin,
            ..member
        })
    }

    pub async fn grant_admin(&self, email: &str) -> Result<Member> {
        let mut tx = self.begin_write().await?;
        let n = sqlx::query("UPDATE account SET is_admin = 1 WHERE email = ?")
            .bind(email)
            .execute(&mut *tx)
            .await
            .context("granting admin")?
            .rows_affected();
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        tx.commit().await.context("committing admin grant")?;
        self.member_by_email(email)
            .await?
            .ok_or(StoreError::NotFound)
    }

    pub async fn update_profile(
        &self,
        account_id: i64,
        username: &str,
        fullname: &str,
    ) -> Result<ProfileOutcome> {
        let mut tx = self.begin_write().await?;
        let taken: Option<i64> = sqlx::query_scalar(
            "SELECT account_id FROM account WHERE username = ? COLLATE NOCASE AND account_id <> ?",
        )
        .bind(username)
        .bind(account_id)
        .fetch_optional(&mut *tx)
        .await
        .context("checking a username")?;
        if taken.is_some() {
            return Ok(ProfileOutcome::UsernameTaken);
        }
        sqlx::query("UPDATE account SET username = ?, fullname = ? WHERE account_id = ?")
            .bind(username)
            .bind(fullname)
            .bind(account_id)
            .execute(&mut *tx)
            .await
            .context("saving a profile")?;
        tx.commit().await.context("committing a profile")?;
        Ok(ProfileOutcome::Saved)
    }

    pub async fn create_login_token(
        &self,
        token_hash: &str,
        email: &str,
        now: DateTime<Utc>,
        lifetime: Duration,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        // Old links are useless after a day; clear them as new ones are made.
        sqlx::query("DELETE FROM login_token WHERE expires_at < ?")
            .bind(time_text(now - Duration::days(1)))
            .execute(&mut *tx)
            .await
            .context("deleting old login links")?;
        sqlx::query(
            "INSERT INTO login_token (token_hash, email, created_at, expires_at) VALUES (?, ?, ?, ?)",
        )
        .bind(token_hash)
        .bind(email)
        .bind(time_text(now))
        .bind(time_text(now + lifetime))
        .execute(&mut *tx)
        .await
        .context("writing a login link")?;
        tx.commit().await.context("committing a login link")?;
        Ok(())
    }

    pub async fn login_token_state(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<LoginTokenState> {
        let row = sqlx::query("SELECT expires_at, used_at FROM login_token WHERE token_hash = ?")
            .bind(token_hash)
            .fetch_optional(&self.reader)
            .await
            .context("reading a login link")?;
        token_state(row.as_ref(), now)
    }

    pub async fn consume_login_token(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<LoginOutcome> {
        let mut tx = self.begin_write().await?;
        let row =
            sqlx::query("SELECT email, expires_at, used_at FROM login_token WHERE token_hash = ?")
                .bind(token_hash)
                .fetch_optional(&mut *tx)
                .await
                .context("reading a login link")?;
        match token_state(row.as_ref(), now)? {
            LoginTokenState::Invalid => return Ok(LoginOutcome::Invalid),
            LoginTokenState::Used => return Ok(LoginOutcome::Used),
            LoginTokenState::Expired => return Ok(LoginOutcome::Expired),
            LoginTokenState::Valid => {}
        }
        let email: String = row
            .as_ref()
            .expect("a valid token has a row")
            .try_get("email")
            .context("email")?;
        sqlx::query("UPDATE login_token SET used_at = ? WHERE token_hash = ?")
            .bind(time_text(now))
            .bind(token_hash)
            .execute(&mut *tx)
            .await
            .context("using a login link")?;
        let member = ensure_member_in(&mut tx, &email, now).await?;
        tx.commit().await.context("committing a login")?;
        Ok(if member.banned {
            LoginOutcome::Banned
        } else {
            LoginOutcome::LoggedIn(member)
        })
    }

    pub async fn create_session(&self, s: &NewSession<'_>) -> Result<()> {
        let mut tx = self.begin_write().await?;
        if let Some(old) = s.replaces {
            sqlx::query("DELETE FROM session WHERE session_hash = ?")
                .bind(old)
                .execute(&mut *tx)
                .await
                .context("deleting the replaced session")?;
        }
        sqlx::query(
            "INSERT INTO session (session_hash, account_id, csrf_token, created_at, last_seen_at, \
             expires_at) VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(s.session_hash)
        .bind(s.account_id)
        .bind(s.csrf_token)
        .bind(time_text(s.now))
        .bind(time_text(s.now))
        .bind(time_text(s.expires_at))
        .execute(&mut *tx)
        .await
        .context("writing a session")?;
        tx.commit().await.context("committing a session")?;
        Ok(())
    }

    pub async fn session(
        &self,
        session_hash: &str,
        now: DateTime<Utc>,
        idle: Duration,
    ) -> Result<Option<SessionInfo>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {MEMBER_COLUMNS}, s.csrf_token, s.last_seen_at FROM session s \
             JOIN account a ON a.account_id = s.account_id \
             WHERE s.session_hash = ? AND s.expires_at > ? AND s.last_seen_at > ? \
               AND a.banned_at IS NULL"
        )))
        .bind(session_hash)
        .bind(time_text(now))
        .bind(time_text(now - idle))
        .fetch_optional(&self.reader)
        .await
        .context("reading a session")?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(SessionInfo {
            member: member_from_row(&row)?,
            csrf_token: row.try_get("csrf_token").context("csrf_token")?,
            last_seen_at: parse_time(
                &row.try_get::<String, _>("last_seen_at")
                    .context("last_seen_at")?,
            )?,
        }))
    }

    pub async fn touch_session(&self, session_hash: &str, now: DateTime<Utc>) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE session SET last_seen_at = ? WHERE session_hash = ?")
            .bind(time_text(now))
            .bind(session_hash)
            .execute(&mut *tx)
            .await
            .context("touching a session")?;
        tx.commit().await.context("committing a session touch")?;
        Ok(())
    }

    pub async fn delete_session(&self, session_hash: &str) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM session WHERE session_hash = ?")
            .bind(session_hash)
            .execute(&mut *tx)
            .await
            .context("deleting a session")?;
        tx.commit().await.context("committing a logout")?;
        Ok(())
    }

    pub async fn create_api_token(
        &self,
        account_id: i64,
        token_hash: &str,
        name: &str,
        now: DateTime<Utc>,
    ) -> Result<i64> {
        let mut tx = self.begin_write().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO api_token (account_id, token_hash, name, created_at) VALUES (?, ?, ?, ?) \
             RETURNING api_token_id",
        )
        .bind(account_id)
        .bind(token_hash)
        .bind(name)
        .bind(time_text(now))
        .fetch_one(&mut *tx)
        .await
        .context("writing an API token")?;
        tx.commit().await.context("committing an API token")?;
        Ok(id)
    }

    pub async fn api_tokens(&self, account_id: i64) -> Result<Vec<ApiTokenInfo>> {
        let rows = sqlx::query(
            "SELECT api_token_id, name, created_at, revoked_at IS NOT NULL AS revoked FROM api_token \
             WHERE account_id = ? ORDER BY api_token_id DESC",
        )
        .bind(account_id)
        .fetch_all(&self.reader)
        .await
        .context("reading API tokens")?;
        rows.iter()
            .map(|r| {
                Ok(ApiTokenInfo {
                    id: r.try_get("api_token_id").context("api_token_id")?,
                    name: r.try_get("name").context("name")?,
                    created_at: parse_time(
                        &r.try_get::<String, _>("created_at").context("created_at")?,
                    )?,
                    revoked: r.try_get::<i64, _>("revoked").context("revoked")? != 0,
                })
            })
            .collect()
    }

    pub async fn revoke_api_token(
        &self,
        account_id: i64,
        token_id: i64,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let n = sqlx::query(
            "UPDATE api_token SET revoked_at = ? \
             WHERE api_token_id = ? AND account_id = ? AND revoked_at IS NULL",
        )
        .bind(time_text(now))
        .bind(token_id)
        .bind(account_id)
        .execute(&mut *tx)
        .await
        .context("revoking an API token")?
        .rows_affected();
        tx.commit().await.context("committing a revocation")?;
        Ok(n == 1)
    }

    pub async fn member_by_api_token(&self, token_hash: &str) -> Result<Option<Member>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {MEMBER_COLUMNS} FROM api_token t JOIN account a ON a.account_id = t.account_id \
             WHERE t.token_hash = ? AND t.revoked_at IS NULL AND a.banned_at IS NULL"
        )))
        .bind(token_hash)
        .fetch_optional(&self.reader)
        .await
        .context("reading an API token")?;
        row.as_ref().map(member_from_row).transpose()
    }

    pub async fn ban_member(&self, account_id: i64, now: DateTime<Utc>) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let n = sqlx::query(
            "UPDATE account SET banned_at = ? WHERE account_id = ? AND banned_at IS NULL",
        )
        .bind(time_text(now))
        .bind(account_id)
        .execute(&mut *tx)
        .await
        .context("banning a member")?
        .rows_affected();
        if n == 0 {
            return Ok(());
        }
        sqlx::query(
            "UPDATE api_token SET revoked_at = ? WHERE account_id = ? AND revoked_at IS NULL",
        )
        .bind(time_text(now))
        .bind(account_id)
        .execute(&mut *tx)
        .await
        .context("revoking a banned member's tokens")?;
        for sql in [
            "DELETE FROM session WHERE account_id = ?",
            "UPDATE paper SET member_upvotes = member_upvotes - 1 \
             WHERE paper_id IN (SELECT paper_id FROM upvote WHERE account_id = ?)",
            "DELETE FROM upvote WHERE account_id = ?",
        ] {
            sqlx::query(sql)
                .bind(account_id)
                .execute(&mut *tx)
                .await
                .with_context(|| format!("banning a member: {sql}"))?;
        }
        tx.commit().await.context("committing a ban")?;
        Ok(())
    }
}

fn token_state(row: Option<&SqliteRow>, now: DateTime<Utc>) -> Result<LoginTokenState> {
    let Some(row) = row else {
        return Ok(LoginTokenState::Invalid);
    };
    let used: Option<String> = row.try_get("used_at").context("used_at")?;
    let expires = parse_time(
        &row.try_get::<String, _>("expires_at")
            .context("expires_at")?,
    )?;
    Ok(if used.is_some() {
        LoginTokenState::Used
    } else if now >= expires {
        LoginTokenState::Expired
    } else {
        LoginTokenState::Valid
    })
}

/// Finds the account with `email`, or creates it with a unique username from the address.
async fn ensure_member_in(
    tx: &mut Transaction<'static, Sqlite>,
    email: &str,
    now: DateTime<Utc>,
) -> Result<Member> {
    let select = format!("SELECT {MEMBER_COLUMNS} FROM account a WHERE a.email = ?");
    if let Some(row) = sqlx::query(sqlx::AssertSqlSafe(select.clone()))
        .bind(email)
        .fetch_optional(&mut **tx)
        .await
        .context("reading a member by email")?
    {
        return member_from_row(&row);
    }
    let base = username_from_email(email);
    let mut n = 1;
    loop {
        let username = if n == 1 {
            base.clone()
        } else {
            format!("{base}-{n}")
        };
        let inserted = sqlx::query(
            "INSERT INTO account (username, fullname, email, created_at) \
             SELECT ?1, ?2, ?3, ?4 WHERE NOT EXISTS \
               (SELECT 1 FROM account WHERE username = ?1 COLLATE NOCASE)",
        )
        .bind(&username)
        .bind(&base)
        .bind(email)
        .bind(time_text(now))
        .execute(&mut **tx)
        .await
        .context("creating a member")?
        .rows_affected();
        if inserted == 1 {
            break;
        }
        n += 1;
    }
    let row = sqlx::query(sqlx::AssertSqlSafe(select))
        .bind(email)
        .fetch_one(&mut **tx)
        .await
        .context("reading a new member")?;
    member_from_row(&row)
}
