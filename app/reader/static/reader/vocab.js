// Vocabulary page: a status change is saved at once through the mark API (the browser
// session, CSRF header), without reloading; the form's Save button is the fallback.
"use strict";
(function () {
  document.body.classList.add("js");
  for (const form of document.querySelectorAll("form.mark")) {
    const select = form.querySelector("select");
    const saved = form.querySelector(".saved");
    const word = form.elements.word.value;
    select.addEventListener("change", async () => {
      saved.textContent = "saving…";
      try {
        const response = await fetch("/api/v1/vocab/mark", {
          method: "POST",
          credentials: "same-origin",
          headers: {
            "Content-Type": "application/json",
            "X-CSRFToken": form.elements.csrfmiddlewaretoken.value,
          },
          body: JSON.stringify({ changes: [{ word: word, status: select.value }] }),
        });
        if (!response.ok) throw new Error((await response.json()).error);
        const cell = form.closest("tr").querySelector("td[lang]");
        cell.className = "s-" + select.value;
        saved.textContent = "saved";
      } catch (error) {
        saved.textContent = "not saved: " + error.message;
      }
    });
  }
})();
