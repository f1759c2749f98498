// Hands the processed picture's viewer the picture of the next step of the slider moved last (the server's
// own, made while the hand rests): the viewer shows it the moment that slider reaches that value.
export default function ({ data }) {
  window.ocrvAhead = data && data.src ? data : null;
}
