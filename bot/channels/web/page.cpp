// The /chat simulator page: plain HTML + JS, no external resources (the machines reach no CDN).
#include "bot/channels/web/web_channel.hpp"

namespace pgibot::channels {

std::string_view WebChannel::page_html() {
    static constexpr std::string_view kPage = R"HTML(<!doctype html>
<html lang="vi">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>pgibot – trò chuyện thử</title>
<link rel="icon" href="data:,">
<style>
  body { margin: 0; font-family: system-ui, sans-serif; background: #eef3ee;
         display: flex; flex-direction: column; height: 100vh; height: 100dvh; }
  header { background: #2e7d32; color: #fff; padding: 12px 16px; font-weight: 600; flex: none; }
  header small { display: block; font-weight: 400; opacity: .85; }
  #log { padding: 12px; flex: 1 1 auto; min-height: 0; overflow-y: auto; }
  .bubble { max-width: 80%; margin: 6px 0; padding: 8px 12px; border-radius: 14px; white-space: pre-wrap; line-height: 1.35;
            overflow-wrap: break-word; overflow-wrap: anywhere; }
  .bot { background: #fff; }
  .me { background: #c8e6c9; margin-left: auto; }
  .row { display: flex; }
  .quick { display: flex; flex-wrap: wrap; gap: 6px; margin: 4px 0 10px; }
  .quick button { border: 1px solid #2e7d32; background: #fff; color: #2e7d32; border-radius: 16px; padding: 6px 10px; cursor: pointer; }
  form { display: flex; gap: 8px; padding: 10px; background: #fff; flex: none; }
  input { flex: 1; min-width: 0; padding: 10px; border-radius: 20px; border: 1px solid #aaa; font-size: 16px; }
  form button { padding: 10px 16px; border-radius: 20px; border: 0; background: #2e7d32; color: #fff; font-size: 16px; }
</style>
</head>
<body>
<header>pgibot – Trợ lý môi trường Lạng Sơn<small>Trang thử nghiệm cục bộ: tin nhắn đi qua đúng đường của Facebook và Zalo</small></header>
<div id="log" aria-live="polite"></div>
<form id="form">
  <input id="text" autocomplete="off" placeholder="Nhập câu hỏi, ví dụ: phan loai rac the nao?" aria-label="Tin nhắn">
  <button type="submit" id="send">Gửi</button>
</form>
<script>
(function () {
  var user = localStorage.getItem('pgibot-user');
  if (!user) { user = 'web-' + Math.random().toString(36).slice(2, 10); localStorage.setItem('pgibot-user', user); }
  var last = 0, log = document.getElementById('log');
  function bubble(text, who) {
    var row = document.createElement('div'); row.className = 'row';
    var b = document.createElement('div'); b.className = 'bubble ' + who; b.textContent = text;
    row.appendChild(b); log.appendChild(row); log.scrollTop = log.scrollHeight;
  }
  function quick(list) {
    var box = document.createElement('div'); box.className = 'quick';
    list.forEach(function (q) {
      var btn = document.createElement('button'); btn.type = 'button'; btn.textContent = q.title;
      btn.setAttribute('data-payload', q.payload);
      btn.onclick = function () { box.remove(); send({ payload: q.payload }, q.title); };
      box.appendChild(btn);
    });
    log.appendChild(box); log.scrollTop = log.scrollHeight;
  }
  function send(msg, shown) {
    bubble(shown, 'me');
    msg.user = user; msg.id = Date.now().toString(36) + Math.random().toString(36).slice(2, 6);
    fetch('chat/api/send', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(msg) });
  }
  function poll() {
    fetch('chat/api/messages?user=' + encodeURIComponent(user) + '&after=' + last)
      .then(function (r) { return r.json(); })
      .then(function (d) {
        (d.messages || []).forEach(function (m) {
          bubble(m.text, 'bot');
          if (m.quick_replies && m.quick_replies.length) quick(m.quick_replies);
        });
        last = d.last || last;
      })
      .catch(function () {})
      .finally(function () { setTimeout(poll, 500); });
  }
  document.getElementById('form').onsubmit = function (ev) {
    ev.preventDefault();
    var t = document.getElementById('text'); var v = t.value.trim(); if (!v) return;
    t.value = ''; send({ text: v }, v);
  };
  poll();
  if (!localStorage.getItem('pgibot-greeted')) { localStorage.setItem('pgibot-greeted', '1'); send({ payload: 'GET_STARTED' }, 'Bắt đầu'); }
})();
</script>
</body>
</html>
)HTML";
    return kPage;
}

}  // namespace pgibot::channels
