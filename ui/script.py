"""The page's one script (put in its ``<head>``): copy buttons, keyboard focus for chips, and
the seconds a streaming answer has taken.

Gradio's own copy buttons copy a message's HTML, so the page has its own: any
``button.copy-text`` puts the text of the hidden ``.copy-source`` beside it on the clipboard
(:func:`ui.render.copy_button`).
A chip (``[n]``) moves the keyboard focus to its source card, not just the scroll position; a
card's "Back to the answer" link goes back to the chip it came from (or its answer) and focuses
it. Listeners sit on the document, so they work for messages Gradio renders later.
A suggested follow-up question (``button.follow-up``, :func:`ui.render.follow_ups_html`) is put
in the question box and asked. Editing a question (Gradio's Edit) starts from its text, not from
the HTML the chat shows it with. A file over the upload limit is refused before it is sent, in
the upload box's own unit ("up to 10 MB": not Gradio's "9.5 Mb").
"""

SCRIPT = """
<script>
(() => {
  let lastChip = null;
  const copyText = async (button) => {
    const source = button.parentElement && button.parentElement.querySelector(".copy-source");
    const text = source ? source.textContent : "";
    try {
      await navigator.clipboard.writeText(text);
    } catch (error) {
      const area = document.createElement("textarea");
      area.value = text;
      area.style.position = "fixed";
      area.style.left = "-9999px";
      document.body.appendChild(area);
      area.select();
      document.execCommand("copy");
      area.remove();
    }
    const label = button.textContent;
    button.textContent = "Copied";
    setTimeout(() => { button.textContent = label; }, 1500);
  };
  // A follow-up question asked: typed into the question box (as if by hand), then Ask, once the
  // box has taken it (Ask is hidden while an answer streams: then the question waits in the box).
  const askNext = (text) => {
    const box = document.querySelector("#question textarea");
    if (!box) return;
    box.value = text;
    box.dispatchEvent(new Event("input", {bubbles: true}));
    setTimeout(() => {
      const ask = document.querySelector("#ask");
      if (ask && ask.offsetParent !== null) ask.click();
    }, 100);
  };
  // Gradio's Edit puts a message's HTML in the box it edits; a question is edited as its text.
  new MutationObserver((changes) => {
    for (const change of changes) {
      for (const node of change.addedNodes) {
        if (!(node instanceof Element)) continue;
        const boxes = node.matches("textarea") ? [node] : node.querySelectorAll("textarea");
        boxes.forEach((box) => {
          if (!box.closest("#chat") || !box.value.trimStart().startsWith('<p class="question')) return;
          const shown = new DOMParser().parseFromString(box.value, "text/html").querySelector(".question");
          if (!shown) return;
          shown.querySelectorAll(".dim").forEach((part) => part.remove());
          box.value = shown.textContent.trim();
          box.dispatchEvent(new Event("input", {bubbles: true}));
        });
      }
    }
  }).observe(document.documentElement, {subtree: true, childList: true});
  // The seconds an answer has been streaming, beside its status line (one clock per answer,
  // kept across the re-renders of its bubble; looked at four times a second, so that a new status
  // line, "Checking sentence 2 of the draft…", shows the seconds at once).
  const began = new Map();
  setInterval(() => {
    document.querySelectorAll(".answer.streaming").forEach((answer) => {
      if (!began.has(answer.id)) began.set(answer.id, Date.now());
      const seconds = Math.round((Date.now() - began.get(answer.id)) / 1000);
      const shown = answer.querySelector(".elapsed");
      if (shown && seconds >= 2) shown.textContent = ` ${seconds} s`;
    });
    document.querySelectorAll(".answer:not(.streaming)").forEach((answer) => began.delete(answer.id));
  }, 250);
  document.addEventListener("click", (event) => {
    const target = event.target instanceof Element ? event.target : null;
    if (!target) return;
    const copy = target.closest("button.copy-text");
    if (copy) { event.preventDefault(); copyText(copy); return; }
    const followUp = target.closest("#chat button.follow-up");
    if (followUp) { event.preventDefault(); askNext(followUp.textContent); return; }
    const chip = target.closest("a.chip[href^='#source-']");
    if (chip) {
      lastChip = chip;
      const card = document.getElementById(chip.getAttribute("href").slice(1));
      // The link's own navigation scrolls to the card (and makes it :target); then focus it.
      if (card) setTimeout(() => card.focus({preventScroll: true}), 0);
      return;
    }
    const back = target.closest("a.back-to-answer");
    if (back) {
      event.preventDefault();
      const answer = document.getElementById(back.getAttribute("href").slice(1));
      const card = back.closest(".source");
      const wanted = card ? "#" + card.id : "";
      const to = lastChip && lastChip.isConnected && answer && answer.contains(lastChip) ? lastChip
        : (answer && wanted && answer.querySelector(`a.chip[href='${wanted}']`)) || answer;
      if (to) {
        to.scrollIntoView({block: "center"});
        if (to === answer) to.setAttribute("tabindex", "-1");
        to.focus({preventScroll: true});
      }
    }
  });
  // A file over the upload limit is refused here, in the unit and number the upload box states
  // ("up to 10 MB") and in the server's words (ui.uploads.check_upload), before Gradio's own
  // check would say "9.5 Mb" (its binary units). Nothing of that choice or drop is uploaded.
  const refuseTooLarge = (event, files) => {
    const limit = window.gradio_config && window.gradio_config.max_file_size;
    const big = limit ? Array.from(files || []).filter((file) => file.size > limit) : [];
    const box = document.getElementById("upload");
    document.getElementById("upload-refused")?.remove();
    if (!big.length || !box) return;
    event.preventDefault();
    event.stopImmediatePropagation();
    if (event.target instanceof HTMLInputElement) event.target.value = "";
    const limitMb = String(Number((limit / 1e6).toFixed(6)));  // as Python's :g writes it: 10, 9.5
    const shown = document.createElement("div");
    shown.id = "upload-refused";
    shown.setAttribute("role", "alert");
    for (const file of big) {
      const line = document.createElement("p");
      line.className = "status error";
      line.textContent = `${file.name}: '${file.name}' is ${(file.size / 1e6).toFixed(1)} MB, over the ` +
        `${limitMb} MB limit: split it, or raise max_file_mb (RAG_MAX_FILE_MB)`;
      shown.appendChild(line);
    }
    if (big.length < files.length) {
      const rest = document.createElement("p");
      rest.className = "status error";
      rest.textContent = "Nothing was uploaded: upload the other files without it.";
      shown.appendChild(rest);
    }
    box.insertAdjacentElement("afterend", shown);
  };
  document.addEventListener("change", (event) => {
    if (event.target instanceof HTMLInputElement && event.target.type === "file" && event.target.closest("#upload")) {
      refuseTooLarge(event, event.target.files);
    }
  }, true);
  document.addEventListener("drop", (event) => {
    if (event.target instanceof Element && event.target.closest("#upload") && event.dataTransfer) {
      refuseTooLarge(event, event.dataTransfer.files);
    }
  }, true);
})();
</script>
"""
