"""Accounts and the people in them: who they are, what their role lets them do, signing in.

Modules and their public names:
- ``directory``: ``AccountRef`` (id, slug, name: how every reader names an account), ``list_accounts``.
- ``auth``: roles and permissions (``Actor``, ``authorize``, ``NotAllowed``), signing in
  with a password (``sign_in``, ``SignInThrottle``) or single sign-on (``verified_sso_email``).
- ``users``: ``add_user``, ``set_password`` (``python -m core user ...``).
- ``passwords``: argon2id ``hash_password``, ``verify_password``, ``generate_password``.
- ``sign_in_sessions``: "stay signed in" tokens (``issue_sign_in_session``, ``resolve_sign_in_session``,
  ``revoke_sign_in_sessions``).
Depends on: ``core.models``, ``core.types``, ``core.storable``.
"""
