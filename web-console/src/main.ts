// Entry point: styles, the stored session, and the app mounted into #app.
import { h, render } from 'preact';
import { App } from './app.ts';
import { restoreSession } from './api/session.ts';
import './styles.css';

restoreSession();
render(h(App, null), document.getElementById('app')!);
