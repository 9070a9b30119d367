console.log('build-graph placeholder', process.argv.slice(2));
