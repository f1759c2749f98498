// Hands the processed picture's viewer the pictures of the next step either way of the slider in the
// person's hand (the server's own, made while the hand rests): the viewer shows one the moment that slider
// reaches its value. And tells the server which slider the hand comes to, before it moves one: when the
// pointer comes over a slider the server can make pictures ahead for, or goes down on it, or the keyboard
// focus comes to it, the "near" trigger names its key (once: not again while that is on its way or the
// server has that slider in hand; and not when the slider moves within WAIT_MS), and the server makes the
// pictures of that slider's steps.
// window.ocrvAhead: {hand, watch, base, steps: [{value, src, width_px, height_px}]}, or null.
// Plain JavaScript, shipped with the package: nothing is fetched from elsewhere.

const WAIT_MS = 50;  // a slider that moves this soon after the hand came needs nothing made: its move makes it
const hand = window.ocrvHand || (window.ocrvHand = { sliders: [], hand: null, asked: null, send: null });

function near(target) {
  const box = target && target.closest ? target.closest('[class*="st-key-"]') : null;
  if (!box) return;
  const key = [...box.classList].filter((c) => c.startsWith("st-key-")).map((c) => c.slice(7))
    .find((k) => hand.sliders.includes(k));
  if (!key || key === hand.hand || key === hand.asked || key === hand.pending) return;
  clearTimeout(hand.timer);
  hand.pending = key;
  hand.timer = setTimeout(() => {
    hand.pending = null;
    if (key === hand.hand || !hand.send) return;
    hand.asked = key;
    hand.send("near", key);
  }, WAIT_MS);
}

if (!hand.listening) {
  hand.listening = true;
  for (const type of ["pointerover", "pointerdown", "focusin"]) {
    document.addEventListener(type, (e) => near(e.target), { capture: true, passive: true });
  }
  // the slider waited for moved at once (a key pressed with the focus, a click on its track): its move's run
  // makes the pictures of its next steps; a run for them now would only hold that one up
  new MutationObserver((changes) => {
    if (!hand.pending) return;
    const moved = (c) => c.oldValue !== c.target.getAttribute("aria-valuetext") && c.target.closest
      && c.target.closest(".st-key-" + hand.pending);  // a value set again as it was (a redrawing) is no move
    if (changes.some(moved)) {
      clearTimeout(hand.timer);
      hand.pending = null;
    }
  }).observe(document.body, { subtree: true, attributes: true, attributeOldValue: true,
                              attributeFilter: ["aria-valuetext"] });
}

export default function ({ data, setTriggerValue }) {
  window.ocrvAhead = data && data.steps && data.steps.length ? data : null;
  hand.send = setTriggerValue;
  hand.sliders = (data && data.sliders) || [];
  hand.hand = (data && data.hand) || null;
  hand.asked = null;  // only a person's pointer or focus asks again: never a drawing of this
  return () => {  // before the next drawing, and when the page is left: nothing to tell, nothing ahead
    if (hand.send === setTriggerValue) hand.send = null;
    window.ocrvAhead = null;
  };
}
