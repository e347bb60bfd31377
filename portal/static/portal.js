// creditbank portal: progressive enhancement only. Every page works without this script.
// - drop a credential file on the upload form;
// - read a share link from a QR code (camera or photo): the browser's BarcodeDetector when it
//   reads QR codes, else the bundled jsQR decoder (static/vendor/jsQR.js, loaded on first use);
// - copy a link with one click.
// - on a phone, scroll a menu that scrolls sideways so that its current page shows.
"use strict";

(function () {
  const MAX_SIDE = 1200;

  function enableDropzones() {
    document.querySelectorAll("[data-dropzone]").forEach((form) => {
      const input = form.querySelector("input[type=file]");
      form.querySelectorAll("[data-drop-hint]").forEach((hint) => { hint.hidden = false; });
      const over = (event) => {
        event.preventDefault();
        form.classList.add("dragging");
      };
      form.addEventListener("dragenter", over);
      form.addEventListener("dragover", over);
      form.addEventListener("dragleave", () => form.classList.remove("dragging"));
      form.addEventListener("drop", (event) => {
        event.preventDefault();
        form.classList.remove("dragging");
        if (event.dataTransfer && event.dataTransfer.files.length > 0) {
          input.files = event.dataTransfer.files;
          form.requestSubmit();
        }
      });
    });
  }

  let decoder = null;

  function loadDecoder(src) {
    if (decoder === null) {
      decoder = new Promise((resolve, reject) => {
        const script = document.createElement("script");
        script.src = src;
        script.onload = () => resolve(window.jsQR);
        script.onerror = () => reject(new Error("the QR decoder could not be loaded"));
        document.head.append(script);
      });
    }
    return decoder;
  }

  async function nativeDetector() {
    if (!("BarcodeDetector" in window)) return null;
    try {
      const formats = await window.BarcodeDetector.getSupportedFormats();
      return formats.includes("qr_code") ? new window.BarcodeDetector({ formats: ["qr_code"] }) : null;
    } catch {
      return null;
    }
  }

  // The text of the first QR code in an image or video frame, or null.
  async function readQr(source, width, height, decoderSrc) {
    const detector = await nativeDetector();
    if (detector !== null) {
      const codes = await detector.detect(source);
      return codes.length > 0 ? codes[0].rawValue : null;
    }
    const jsQR = await loadDecoder(decoderSrc);
    const scale = Math.min(1, MAX_SIDE / Math.max(width, height));
    const canvas = document.createElement("canvas");
    canvas.width = Math.round(width * scale);
    canvas.height = Math.round(height * scale);
    const context = canvas.getContext("2d", { willReadFrequently: true });
    context.drawImage(source, 0, 0, canvas.width, canvas.height);
    const pixels = context.getImageData(0, 0, canvas.width, canvas.height);
    const code = jsQR(pixels.data, pixels.width, pixels.height);
    return code ? code.data : null;
  }

  function enableQrScanner() {
    const scanner = document.querySelector("[data-qr-scanner]");
    if (scanner === null) return;
    const form = scanner.closest("form");
    const urlInput = form.querySelector("input[name=url]");
    const status = scanner.querySelector("[data-qr-status]");
    const video = scanner.querySelector("video");
    const cameraButton = scanner.querySelector("[data-qr-camera]");
    const imageInput = scanner.querySelector("input[type=file]");
    const decoderSrc = scanner.dataset.decoder;
    let stream = null;
    scanner.hidden = false;

    const say = (message) => { status.textContent = message; };
    const open = (text) => {
      say(scanner.dataset.msgFound);
      urlInput.value = text.trim();
      form.requestSubmit();
    };
    const stopCamera = () => {
      if (stream !== null) stream.getTracks().forEach((track) => track.stop());
      stream = null;
      video.hidden = true;
    };

    imageInput.addEventListener("change", async () => {
      const file = imageInput.files[0];
      if (!file) return;
      try {
        const bitmap = await createImageBitmap(file);
        const text = await readQr(bitmap, bitmap.width, bitmap.height, decoderSrc);
        if (text) open(text); else say(scanner.dataset.msgNone);
      } catch {
        say(scanner.dataset.msgNone);
      }
    });

    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      cameraButton.hidden = true;
      return;
    }
    cameraButton.addEventListener("click", async () => {
      if (stream !== null) {
        stopCamera();
        return;
      }
      try {
        stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
      } catch {
        say(scanner.dataset.msgCamera);
        return;
      }
      video.srcObject = stream;
      video.hidden = false;
      await video.play();
      say(scanner.dataset.msgPoint);
      const scan = async () => {
        if (stream === null) return;
        if (video.readyState >= 2) {
          const text = await readQr(video, video.videoWidth, video.videoHeight, decoderSrc);
          if (text) {
            stopCamera();
            open(text);
            return;
          }
        }
        window.setTimeout(scan, 250);
      };
      scan();
    });
  }

  function enableCopyButtons() {
    if (!navigator.clipboard) return;
    document.querySelectorAll("[data-copy]").forEach((button) => {
      const input = document.getElementById(button.dataset.copy);
      const label = button.textContent;
      button.hidden = false;
      button.addEventListener("click", async () => {
        await navigator.clipboard.writeText(input.value);
        button.textContent = button.dataset.msgCopied;
        window.setTimeout(() => { button.textContent = label; }, 2000);
      });
    });
  }

  function showCurrentPages() {
    document.querySelectorAll("nav ul").forEach((list) => {
      const current = list.querySelector("[aria-current=page]");
      if (current === null || list.scrollWidth <= list.clientWidth) return;
      const box = list.getBoundingClientRect();
      const link = current.getBoundingClientRect();
      list.scrollLeft += link.left - box.left - (box.width - link.width) / 2;
    });
  }

  enableDropzones();
  enableQrScanner();
  enableCopyButtons();
  showCurrentPages();
})();
