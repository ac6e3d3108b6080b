// whydenied: optional enhancements only; every page works without this file.
// Copy buttons: <button data-copy-target="ID"> copies the text of the element with that id.
'use strict'
;(function () {
  function copyText (text) {
    if (navigator.clipboard && window.isSecureContext) return navigator.clipboard.writeText(text)
    return new Promise(function (resolve, reject) {
      const area = document.createElement('textarea')
      area.value = text
      area.setAttribute('readonly', '')
      area.className = 'offscreen'
      document.body.appendChild(area)
      area.select()
      let ok = false
      try { ok = document.execCommand('copy') } catch (e) { ok = false }
      document.body.removeChild(area)
      if (ok) resolve(); else reject(new Error('copy failed'))
    })
  }

  function setup () {
    const buttons = document.querySelectorAll('button[data-copy-target]')
    Array.prototype.forEach.call(buttons, function (button) {
      const target = document.getElementById(button.getAttribute('data-copy-target'))
      if (!target) return
      const status = button.parentNode.querySelector('.copy-status')
      button.hidden = false
      button.addEventListener('click', function () {
        copyText(target.textContent).then(function () {
          if (status) status.textContent = 'Copied'
          button.textContent = 'Copied'
          setTimeout(function () { button.textContent = 'Copy'; if (status) status.textContent = '' }, 2000)
        }, function () {
          if (status) status.textContent = 'Could not copy: select the text and copy it by hand'
        })
      })
    })
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', setup)
  else setup()
})()
