"""The login page: plain server-rendered HTML (it must work before any Dash code loads)."""

from __future__ import annotations

from flask import render_template_string

# Jinja autoescapes every value; the page loads only our own CSS.
_PAGE = """<!DOCTYPE html>
<html lang="zh-CN">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>OneMap 一张图 · 登录 Sign in</title>
  <link rel="stylesheet" href="/assets/onemap.css">
</head>
<body class="login-body">
  <main class="login-card">
    <h1>OneMap <span class="brand-zh">一张图</span></h1>
    <p class="page-subtitle">城市网格化管理指挥中心 · Urban grid command centre</p>
    {% if message %}<p class="login-error" role="alert">{{ message }}</p>{% endif %}
    <form method="post" action="/login" autocomplete="off">
      <input type="hidden" name="csrf_token" value="{{ csrf_token }}">
      <input type="hidden" name="next" value="{{ next }}">
      <label>用户名 <span class="en">Username</span>
        <input name="username" value="{{ username }}" required autofocus maxlength="64"></label>
      <label>密码 <span class="en">Password</span>
        <input name="password" type="password" required maxlength="256"></label>
      <button type="submit">登录 <span class="en">Sign in</span></button>
    </form>
  </main>
</body>
</html>"""


def render(*, csrf_token: str, next_path: str = "/", message: str = "", username: str = "",
           status: int = 200):
    """The page, with an error message when a sign-in failed."""
    body = render_template_string(_PAGE, csrf_token=csrf_token, next=next_path, message=message,
                                  username=username)
    return body, status, {"Content-Type": "text/html; charset=utf-8"}
