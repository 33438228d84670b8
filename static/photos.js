/* Photos from the browser, with a real progress bar (XMLHttpRequest's upload.onprogress).
   Two shapes, both progressive enhancements of a plain multipart form:
   - [data-photo-uploader] inside a message composer (web chat, web inbox): each chosen photo is
     uploaded at once to data-upload-url; the answer's uid rides with the message as a hidden
     "media" field and its thumbnail is shown. Without JavaScript the files post with the form.
   - form[data-upload-form] (listing photos): the whole form is sent by XMLHttpRequest; the
     answer names the page to go to, which says what happened.
   While the bytes travel the bar fills; once sent, the server cleans the photo (strips location
   and camera details, re-encodes it), which the status line calls "Cleaning…". The words come
   from the page (data- attributes, translated there): there is no JavaScript catalogue. */
(function () {
  "use strict";

  function csrf(form) {
    var field = form.querySelector("[name=csrfmiddlewaretoken]");
    return field ? field.value : "";
  }

  function send(url, data, progress, done) {
    var xhr = new XMLHttpRequest();
    xhr.open("POST", url);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.onprogress = function (event) {
      if (event.lengthComputable) progress(Math.round((event.loaded * 100) / event.total));
    };
    xhr.upload.onload = function () { progress(null, true); };
    xhr.onload = function () {
      var answer = null;
      try { answer = JSON.parse(xhr.responseText); } catch (error) { answer = null; }
      done(xhr.status, answer);
    };
    xhr.onerror = function () { done(0, null); };
    xhr.send(data);
  }

  function button(text, label) {
    var element = document.createElement("button");
    element.type = "button";
    element.className = "ghost photo-remove";
    element.textContent = text;
    element.setAttribute("aria-label", label);
    return element;
  }

  function composer(box) {
    var form = box.closest("form");
    var input = box.querySelector("input[type=file]");
    var queue = box.querySelector("[data-photo-queue]");
    var max = parseInt(box.dataset.max, 10) || 4;
    var busy = 0;
    var words = box.dataset;

    function count() { return queue.querySelectorAll("li").length; }

    function uploadUrl() {
      // The buyer's chat moves to a renewed link while open (templates/relay/_live.html keeps
      // it in data-chat-link): upload under the link the page has now.
      var live = document.querySelector("[data-chat-link]");
      return live ? live.getAttribute("data-chat-link") + "photos/" : words.uploadUrl;
    }

    function item() {
      var li = document.createElement("li");
      li.className = "photo-item";
      var bar = document.createElement("progress");
      bar.max = 100;
      bar.value = 0;
      var status = document.createElement("span");
      status.className = "photo-status";
      status.textContent = words.uploading;
      li.append(bar, status);
      queue.append(li);
      return {li: li, bar: bar, status: status};
    }

    function removable(li) {
      var remove = button("×", words.remove);
      remove.addEventListener("click", function () { li.remove(); input.focus(); });
      li.append(remove);
    }

    function upload(file) {
      var row = item();
      var data = new FormData();
      data.append("csrfmiddlewaretoken", csrf(form));
      data.append("photo", file, file.name);
      busy += 1;
      send(uploadUrl(), data, function (percent, sent) {
        if (sent) { row.bar.removeAttribute("value"); row.status.textContent = words.cleaning; return; }
        row.li.dataset.progress = String(percent);  // the furthest the bar got (tests read it)
        row.bar.value = percent;
      }, function (status, answer) {
        busy -= 1;
        row.bar.remove();
        if (status === 200 && answer && answer.uid) {
          var image = document.createElement("img");
          image.src = answer.thumbnail;
          image.alt = words.attached;
          image.className = "photo-preview";
          var field = document.createElement("input");
          field.type = "hidden";
          field.name = "media";
          field.value = answer.uid;
          row.status.textContent = words.ready;
          row.li.prepend(image);
          row.li.append(field);
          row.li.dataset.uid = answer.uid;
        } else {
          row.li.classList.add("photo-failed");
          row.status.setAttribute("role", "alert");
          row.status.textContent = (answer && answer.error && answer.error !== "logged_out") ? answer.error : words.failed;
        }
        removable(row.li);
      });
    }

    input.addEventListener("change", function () {
      Array.prototype.forEach.call(input.files, function (file) {
        if (count() >= max) {
          var row = item();
          row.bar.remove();
          row.li.classList.add("photo-failed");
          row.status.setAttribute("role", "alert");
          row.status.textContent = words.tooMany;
          removable(row.li);
          return;
        }
        upload(file);
      });
      input.value = "";  // the uploads are made: the form itself carries only their uids
    });

    form.addEventListener("submit", function (event) {
      if (busy > 0) {  // a photo still on its way would be left behind
        event.preventDefault();
        var last = queue.querySelector(".photo-status");
        if (last) last.textContent = words.wait;
      }
      queue.querySelectorAll(".photo-failed").forEach(function (li) { li.remove(); });
    });
  }

  function go(address) {
    var target = new URL(address, window.location.href);
    var here = window.location;
    if (target.pathname === here.pathname && target.search === here.search) {
      here.hash = target.hash;  // only the fragment differs: assigning it would not reload
      here.reload();
    } else {
      here.assign(target.href);
    }
  }

  function uploadForm(form) {
    var panel = form.querySelector("[data-upload-progress]");
    var bar = panel.querySelector("progress");
    var status = panel.querySelector("[role=status]");
    var words = form.dataset;
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var data = new FormData(form);
      panel.hidden = false;
      bar.value = 0;
      status.textContent = words.uploading;
      form.querySelectorAll("button, input[type=file]").forEach(function (c) { c.disabled = true; });
      send(form.action, data, function (percent, sent) {
        if (sent) { bar.removeAttribute("value"); status.textContent = words.cleaning; return; }
        form.dataset.progress = String(percent);
        bar.value = percent;
      }, function (code, answer) {
        if (answer && answer.redirect) { go(answer.redirect); return; }
        form.querySelectorAll("button, input[type=file]").forEach(function (c) { c.disabled = false; });
        status.textContent = words.failed;
      });
    });
  }

  document.querySelectorAll("[data-photo-uploader]").forEach(composer);
  document.querySelectorAll("form[data-upload-form]").forEach(uploadForm);
})();
