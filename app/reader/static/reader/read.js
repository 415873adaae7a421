// Reading page: one enrich request for the pasted text, then one mark request per change.
// Words are buttons, so Tab reaches them and Enter opens them; the API is called with the
// browser session and the CSRF token from the page's form.
"use strict";
(function () {
  const STATUSES = ["unknown", "learning", "known", "ignored"];
  const form = document.getElementById("read-form");
  const reading = document.getElementById("reading");
  const tip = document.getElementById("tip");
  const panel = document.getElementById("panel");
  const csrf = form.elements.csrfmiddlewaretoken.value;
  let words = {};
  let current = null;

  async function api(path, body) {
    const response = await fetch(path, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify(body),
    });
    const data = await response.json();
    if (!response.ok) throw new Error(data.error || response.statusText);
    return data;
  }

  function hsk(entries) {
    const levels = entries.map((e) => e.hsk_level).filter((l) => l);
    if (!levels.length) return "";
    const level = Math.min(...levels);
    return level === 7 ? "HSK 7-9" : "HSK " + level;
  }

  function summary(word) {
    const entries = words[word].entries;
    if (!entries.length) return "not in the dictionary";
    const pinyin = [...new Set(entries.map((e) => e.pinyin))].join(" / ");
    return pinyin + " · " + entries[0].glosses.slice(0, 2).join("; ");
  }

  function render(tokens) {
    reading.textContent = "";
    for (const token of tokens) {
      if (words[token]) {
        const button = document.createElement("button");
        button.type = "button";
        button.className = "w s-" + words[token].status;
        button.dataset.word = token;
        button.textContent = token;
        reading.append(button);
      } else {
        token.split("\n").forEach((part, i) => {
          if (i) reading.append(document.createElement("br"));
          if (part) reading.append(part);
        });
      }
    }
  }

  function showTip(button) {
    tip.textContent = summary(button.dataset.word);
    tip.hidden = false;
    const box = button.getBoundingClientRect();
    tip.style.left = Math.max(4, Math.min(box.left + window.scrollX, window.scrollX + document.documentElement.clientWidth - tip.offsetWidth - 4)) + "px";
    tip.style.top = box.bottom + window.scrollY + 4 + "px";
  }

  function openPanel(word) {
    current = word;
    const entries = words[word].entries;
    document.getElementById("p-word").textContent = word;
    document.getElementById("p-pinyin").textContent = [...new Set(entries.map((e) => e.pinyin))].join(" / ");
    document.getElementById("p-hsk").textContent = hsk(entries);
    const list = document.getElementById("p-glosses");
    list.textContent = "";
    for (const entry of entries) {
      const item = document.createElement("li");
      item.textContent = entry.pinyin + ": " + entry.glosses.join("; ");
      list.append(item);
    }
    if (!entries.length) list.textContent = "Not in the dictionary.";
    for (const b of panel.querySelectorAll("[data-status]")) {
      b.setAttribute("aria-pressed", String(b.dataset.status === words[word].status));
    }
    document.getElementById("p-msg").textContent = "";
    panel.hidden = false;
  }

  async function mark(word, status) {
    const message = document.getElementById("p-msg");
    try {
      await api("/api/v1/vocab/mark", { changes: [{ word: word, status: status }] });
    } catch (error) {
      message.textContent = "Not saved: " + error.message;
      return;
    }
    words[word].status = status;
    for (const b of reading.querySelectorAll("button.w")) {
      if (b.dataset.word === word) b.className = "w s-" + status;
    }
    if (current === word) {
      openPanel(word);
      message.textContent = word + ": " + status;
    }
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const status = document.getElementById("read-status");
    status.textContent = "reading…";
    try {
      const data = await api("/api/v1/enrich", { texts: [form.elements.text.value] });
      words = data.words;
      render(data.segments[0]);
      status.textContent = Object.keys(words).length + " words";
    } catch (error) {
      status.textContent = "Error: " + error.message;
    }
  });

  reading.addEventListener("mouseover", (e) => { if (e.target.matches("button.w")) showTip(e.target); });
  reading.addEventListener("focusin", (e) => { if (e.target.matches("button.w")) showTip(e.target); });
  reading.addEventListener("mouseout", () => { tip.hidden = true; });
  reading.addEventListener("focusout", () => { tip.hidden = true; });
  reading.addEventListener("click", (e) => {
    if (e.target.matches("button.w")) {
      showTip(e.target);
      openPanel(e.target.dataset.word);
      // On a phone the panel covers the lower half: keep the word above it.
      const word = e.target.getBoundingClientRect();
      const top = panel.getBoundingClientRect().top;
      if (word.bottom > top) window.scrollBy(0, word.bottom - top + 8);
    }
  });
  reading.addEventListener("keydown", (e) => {
    const index = "1234".indexOf(e.key);
    if (index >= 0 && e.target.matches("button.w")) {
      e.preventDefault();
      mark(e.target.dataset.word, STATUSES[index]);
    }
  });
  panel.addEventListener("click", (e) => {
    if (e.target.dataset.status && current) mark(current, e.target.dataset.status);
  });
  document.getElementById("p-close").addEventListener("click", () => { panel.hidden = true; });
  document.addEventListener("keydown", (e) => { if (e.key === "Escape") panel.hidden = true; });
})();
