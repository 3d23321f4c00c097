"""The page's one script (put in its ``<head>``): copy buttons, keyboard focus for chips, and
the seconds a streaming answer has taken.

Gradio's own copy buttons copy a message's HTML, so the page has its own: any
``button.copy-text`` puts the text of the hidden ``.copy-source`` beside it on the clipboard
(:func:`ui.render.copy_button`).
A chip (``[n]``) moves the keyboard focus to its source card, not just the scroll position; a
card's "Back to the answer" link goes back to the chip it came from (or its answer) and focuses
it. Listeners sit on the document, so they work for messages Gradio renders later.
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
})();
</script>
"""
