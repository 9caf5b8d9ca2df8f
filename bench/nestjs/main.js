// A minimal NestJS 11 application, as the NestJS services start: one module, one controller,
// the Express platform, the default logger. Plain JavaScript (decorators applied by hand), so
// that nothing is compiled before it runs. Prints "bench-ready" once it listens on $PORT.
require("reflect-metadata");
const { NestFactory } = require("@nestjs/core");
const { Controller, Get, Module } = require("@nestjs/common");

class AppController {
  hello() {
    return { ok: true };
  }
}
Controller()(AppController);
Get()(AppController.prototype, "hello", Object.getOwnPropertyDescriptor(AppController.prototype, "hello"));

class AppModule {}
Module({ controllers: [AppController] })(AppModule);

async function main() {
  const app = await NestFactory.create(AppModule);
  await app.listen(Number(process.env.PORT), "127.0.0.1");
  process.stdout.write("bench-ready\n");
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
