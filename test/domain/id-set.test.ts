import { expect } from 'chai';
import { IdSet } from '../../domain/id-set.js';

describe('IdSet', () => {
  it('remembers every id added, leaves earlier sets as they were, and ignores an id it has', () => {
    let set = IdSet.empty;
    const versions: IdSet[] = [];
    for (let i = 0; i < 1000; i++) {
      versions.push(set);
      set = set.add(`op-${i}`);
    }
    expect(set.size).to.equal(1000);
    expect(set.has('op-0') && set.has('op-999')).to.equal(true);
    expect(set.has('op-1000')).to.equal(false);
    expect(versions[500]!.size).to.equal(500);
    expect(versions[500]!.has('op-500')).to.equal(false);
    expect(set.add('op-42')).to.equal(set);
    expect(IdSet.empty.size).to.equal(0);
  });
});
