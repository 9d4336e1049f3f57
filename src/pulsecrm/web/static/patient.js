/* Patient pages: small progressive enhancements; every page works without them.
   - After a refused submission, move focus to the error summary so keyboard and
     screen-reader users land on what needs fixing.
   - After an action on the preference centre, move focus to its status message. */
(function () {
  "use strict";
  function focusFirst() {
    var target = document.getElementById("error-summary");
    if (!target && /[?&]done=/.test(window.location.search)) {
      target = document.getElementById("status");
    }
    if (target) {
      target.focus();
    }
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", focusFirst);
  } else {
    focusFirst();
  }
})();
