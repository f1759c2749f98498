// Hands the processed picture's viewer the pictures of the next move of the control in the person's hand
// (a slider's next step either way, a switch's other side; the server's own, made while the hand rests):
// the viewer shows one the moment that control reaches its value. And tells the server which control the
// hand comes to, before it moves one: when the pointer comes over a control the server can make pictures
// ahead for, or goes down on it, or the keyboard focus comes to it, the "near" trigger names its key (once:
// not again while that is on its way or the server has that control in hand; and not when the control
// moves within WAIT_MS), and the server makes the pictures of that control's next moves.
// window.ocrvAhead: {hand, watch, value, base, steps: [{value, src, width_px, height_px}]}, or null.
// Plain JavaScript, shipped with the package: nothing is fetched from elsewhere.

const WAIT_MS = 50;  // a control that moves this soon after the hand came needs nothing made: its move makes it
const hand = window.ocrvHand || (window.ocrvHand = { controls: [], hand: null, asked: null, send: null });

function near(target) {
  const box = target && target.closest ? target.closest('[class*="st-key-"]') : null;
  if (!box) return;
  const key = [...box.classList].filter((c) => c.startsWith("st-key-")).map((c) => c.slice(7))
    .find((k) => hand.controls.includes(k));
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
  // the control waited for moved at once (a key pressed with the focus, a click): its move's run makes the
  // pictures of its next moves; a run for them now would only hold that one up
  const moved = (el) => {
    if (hand.pending && el.closest && el.closest(".st-key-" + hand.pending)) {
      clearTimeout(hand.timer);
      hand.pending = null;
    }
  };
  new MutationObserver((changes) => {
    for (const c of changes) {  // a value set again as it was (a redrawing) is no move
      if (c.oldValue !== c.target.getAttribute(c.attributeName)) moved(c.target);
    }
  }).observe(document.body, { subtree: true, attributes: true, attributeOldValue: true,
                              attributeFilter: ["aria-valuetext", "data-selected"] });
}

export default function ({ data, setTriggerValue }) {
  window.ocrvAhead = data && data.steps && data.steps.length ? data : null;
  hand.send = setTriggerValue;
  hand.controls = (data && data.controls) || [];
  hand.hand = (data && data.hand) || null;
  hand.asked = null;  // only a person's pointer or focus asks again: never a drawing of this
  return () => {  // before the next drawing, and when the page is left: nothing to tell, nothing ahead
    if (hand.send === setTriggerValue) hand.send = null;
    window.ocrvAhead = null;
  };
}
