import {expect} from 'chai'

import {installStopSignals} from '../../../src/core/lifecycle/stop-signals.js'

describe('stop signals: the first SIGTERM/SIGINT asks for a graceful stop, a second one exits 1', () => {
  it('aborts the signal with a note, exits 1 on the second signal, and removes its handlers on dispose', () => {
    const counts = () => [process.listenerCount('SIGTERM'), process.listenerCount('SIGINT')]
    const before = counts()
    const notes: string[] = []
    const exits: number[] = []
    const stop = installStopSignals({note: (line) => notes.push(line), stopping: 'finishing the job in hand, then stopping', exit: (code) => exits.push(code)})
    expect(counts()).to.deep.equal(before.map((n) => n + 1))
    expect(stop.signal.aborted).to.equal(false)
    process.emit('SIGTERM', 'SIGTERM')
    expect(stop.signal.aborted).to.equal(true)
    expect(notes).to.deep.equal(['SIGTERM received: finishing the job in hand, then stopping'])
    expect(exits).to.deep.equal([])
    process.emit('SIGINT', 'SIGINT')
    expect(notes.at(-1)).to.equal('SIGINT again: stopping now')
    expect(exits).to.deep.equal([1])
    stop.dispose()
    expect(counts()).to.deep.equal(before)
  })
})
